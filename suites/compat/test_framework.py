"""COMPAT-FRAMEWORK: the application on its lowest and highest allowed dependency sets.

Each set is a requirements file in the build context (``[compat.framework] sets``), handed to
the image build through the build argument the profile names; each image then goes through the
same cell as the matrix (on the profile's own Python and PostgreSQL): migrations, the smoke and
a backup restored equal. A set whose file is missing is insufficient, never skipped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from releasegate.suites.compat.cells import CellJob, run_cell

from releasegate.config.profile import Profile
from releasegate.config.sections.compat import CompatSettings
from releasegate.evidence.measurement import Outcome
from releasegate.gate import say
from releasegate.measure.compat_plan import ERROR, PASSED, Cell
from releasegate.measure.recorder import CriterionBreached, Recorder
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.compat
CRITERION = "COMPAT-FRAMEWORK"


@pytest.mark.criterion(CRITERION)
def test_lowest_and_highest_dependency_sets(stack: StackInfo, gate_profile: Profile,
                                            record: Recorder,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    settings: CompatSettings = gate_profile.section("compat")
    framework = settings.framework
    build = gate_profile.app.build
    if stack.provider != "containers" or build is None or gate_profile.db is None:
        record.insufficient(CRITERION, "the dependency sets need an image this run builds "
                            "([services.app.build]) beside a PostgreSQL it starts")
        return
    if not framework.sets:
        record.insufficient(CRITERION, "the profile names no dependency sets: set [compat."
                            "framework] build_arg and sets = { lowest = FILE, highest = FILE }")
        return
    python = build.python or settings.pythons[0]
    cell = Cell(python, gate_profile.db.version)
    red: list[str] = []
    runnable = {}
    for name, file in framework.sets.items():
        if not (build.context / file).is_file():
            record.insufficient(CRITERION, f"the {name} set {file} is not in the build context "
                                f"{build.context}", scope=name)
            red.append(f"{name}: {file} missing")
        else:
            runnable[name] = file
    base = CellJob(profile=gate_profile, settings=settings, parent_run=stack.run_id,
                   run_dir=Path(record.store.directory).parent / "compat", attach=record.attach,
                   say=say)
    jobs = [dataclasses.replace(base, build_args={framework.build_arg: file}, name=f"deps-{name}")
            for name, file in runnable.items()]
    from concurrent.futures import ThreadPoolExecutor

    with capsys.disabled(), ThreadPoolExecutor(max_workers=settings.workers) as pool:
        results = list(pool.map(lambda job: run_cell(job, cell), jobs))
    for (name, file), result in zip(runnable.items(), results, strict=True):
        evidence = {**result.to_json(), **result.evidence, "set": name, "requirements": file}
        source = (f"{file} installed through the build argument {framework.build_arg}; the "
                  f"cell {cell.key}: migrations, the [e2e] smoke, a backup restored equal")
        if result.status == PASSED:
            record(CRITERION, value=0.0, samples=1, source=source, checks=result.checks,
                   evidence=evidence, attachments=result.attachments, scope=name,
                   fail_test=False)
            continue
        why = f"{name} ({file}): {result.phase}: {result.detail}"
        red.append(why)
        if result.status == "failed":
            record(CRITERION, value=1.0, samples=1, source=source, violations=[why],
                   checks=result.checks, evidence=evidence, attachments=result.attachments,
                   scope=name, fail_test=False)
        else:
            record(CRITERION, value=None, samples=0, source=source, reason=why,
                   outcome=Outcome.ERROR if result.status == ERROR else Outcome.INSUFFICIENT,
                   evidence=evidence, attachments=result.attachments, scope=name,
                   fail_test=False)
    if red:
        raise CriterionBreached("; ".join(red), pytrace=False)
