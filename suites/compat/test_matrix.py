"""COMPAT-PYTHON and COMPAT-POSTGRES: the application on every Python and PostgreSQL of the
matrix — image built, migrations applied, the end-to-end smoke passed, a backup restored equal.

The plan (``[compat]``: pairwise by default, ``matrix = "full"`` for every pair, ``cells`` or
``releasegate run --cell`` for chosen ones) runs ``workers`` cells at a time. Each cell is one
part of each criterion, scoped by its key (``py3.11-pg15``): a failure in a phase that involves
only one side (the build: Python; the database start: PostgreSQL) leaves the other side
unmeasured there, never passed. A cell that fails where both sides take part (start,
migrations, smoke, backup) is told apart by two more cells: its Python with the reference
PostgreSQL (the profile's), the reference Python with its PostgreSQL. A side whose version
passed in another cell while the other side's failed in another is cleared; otherwise (and
when both would be) both count it. Cells of the plan this run leaves to other jobs are
``not_run`` parts that ``releasegate report --merge`` replaces with those jobs' results.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from releasegate.suites.compat.cells import CellJob, run_all

from releasegate.config.profile import Profile
from releasegate.config.sections.compat import CompatSettings
from releasegate.evidence.measurement import Outcome
from releasegate.gate import say
from releasegate.measure.compat_plan import (
    ERROR,
    EXCLUDED,
    FAILED,
    NOT_RUN,
    PASSED,
    Cell,
    CellResult,
    Plan,
    blame,
    make_plan,
    requires_python,
    shared_failure,
    witnesses,
)
from releasegate.measure.recorder import CriterionBreached, Recorder
from releasegate.report.matrix import matrix_markdown
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.compat
PYTHON, POSTGRES = "COMPAT-PYTHON", "COMPAT-POSTGRES"
SOURCE = ("a stack of its own per cell: the app image built on that Python's base image, "
          "that PostgreSQL's image; the profile's migrate command, [e2e] steps, backup and "
          "restore commands; table row counts and content hashes read from both databases")


def declared_requirement(profile: Profile, settings: CompatSettings) -> str:
    if settings.requires_python or profile.app.build is None:
        return settings.requires_python
    return requires_python(profile.app.build.context / settings.pyproject)


@pytest.mark.criterion(PYTHON, POSTGRES)
def test_python_postgres_matrix(stack: StackInfo, gate_profile: Profile, record: Recorder,
                                capsys: pytest.CaptureFixture[str]) -> None:
    if stack.provider != "containers":
        for cid in (PYTHON, POSTGRES):
            record.insufficient(cid, "an external environment runs one Python and one "
                                     "PostgreSQL: the matrix needs stacks the harness builds")
        return
    settings: CompatSettings = gate_profile.section("compat")
    requires = declared_requirement(gate_profile, settings)
    plan = make_plan(settings.pythons, settings.postgres, matrix=settings.matrix,
                     requires=requires, chosen=settings.cells)
    run_dir = Path(record.store.directory).parent / "compat"
    job = CellJob(profile=gate_profile, settings=settings, parent_run=stack.run_id,
                  run_dir=run_dir, attach=record.attach, say=say)
    python_ref, postgres_ref = references(gate_profile, settings, plan)
    with capsys.disabled():  # progress per cell on the terminal while the cells run
        results = run_all(job, list(plan.cells), settings.workers)
        # A cell that failed where both sides take part is told apart by two more cells: its
        # Python with the reference PostgreSQL, the reference Python with its PostgreSQL.
        extra = sorted({w for r in results if shared_failure(r)
                        for w in witnesses(r.cell, python_ref, postgres_ref)}
                       - {r.cell for r in results})
        if extra:
            say(f"[compat] telling {len(extra)} failure(s) apart with "
                + ", ".join(c.key for c in extra))
            results += run_all(job, extra, settings.workers)
    ran = {r.cell for r in results}
    left = [CellResult(c) for c in plan.planned if c not in ran]
    table = matrix_markdown([r.to_json() for r in results + left], plan.excluded)
    say("[compat] matrix:\n" + table)
    attachment = record.attach("compat-matrix.md", table)
    red: list[str] = []
    for result in results + left:
        sides = {side: blame(result, side, results) for side in ("python", "postgres")}
        for side, what in sides.items():
            if what == "exonerated":
                result.evidence["attribution"] = (
                    f"{result.phase} failed because of the other side: this {side} version "
                    "passed in another cell, and the other side's version failed in another")
        for cid, side in ((PYTHON, "python"), (POSTGRES, "postgres")):
            if sides[side] != "exonerated":
                red += _record_cell(record, cid, side, result, sides[side], [attachment])
    for python, why in plan.excluded.items():
        record(PYTHON, value=0.0, samples=1, source=f"requires-python {requires!r}",
               checks=[{"name": f"Python {python} is outside the application's supported range",
                        "ok": True, "detail": why}],
               evidence={"cell": f"py{python}", "python": python, "status": EXCLUDED,
                         "detail": why}, scope=f"py{python}", fail_test=False)
    if red:
        raise CriterionBreached("; ".join(red[:6]), pytrace=False)


def references(profile: Profile, settings: CompatSettings, plan: Plan) -> tuple[str, int]:
    """The profile's own Python and PostgreSQL (else the first of the matrix): the reference a
    failed cell's two sides are each tried against."""
    build, db = profile.app.build, profile.db
    pythons = [p for p in settings.pythons if p not in plan.excluded] or list(settings.pythons)
    python = build.python if build and build.python in pythons else pythons[0]
    postgres = db.version if db and db.version in settings.postgres else settings.postgres[0]
    return str(python), int(postgres)


def _record_cell(record: Recorder, cid: str, side: str, result: CellResult, what: str,
                 attachments: list[str]) -> list[str]:
    """One part of ``cid`` for the cell; returns what is red about it."""
    cell: Cell = result.cell
    version = f"Python {cell.python}" if side == "python" else f"PostgreSQL {cell.postgres}"
    value: float | None = None
    outcome, reason, violations, red = Outcome.MEASURED, "", [], []
    if what == PASSED:
        value = 0.0
    elif what == FAILED:
        why = f"{cell.key}: {result.phase} failed: {result.detail}"
        value, violations, red = 1.0, [why], [f"{cid} {why}"]
    elif what == NOT_RUN:
        outcome = Outcome.NOT_RUN
        reason = (f"{cell.key} is left to another run of this plan (--cell); merge its report "
                  "with `releasegate report --merge`")
    else:
        outcome = Outcome.ERROR if what == ERROR else Outcome.INSUFFICIENT
        reason = (f"{version} not measured in {cell.key}: it stopped at the {result.phase} "
                  "phase, before this side was tried" if what == "unmeasured" else
                  f"{cell.key}: {result.phase}: {result.detail}")
        red = [f"{cid} {reason}"]
    record(cid, value=value, samples=1 if value is not None else 0, source=SOURCE,
           outcome=outcome, reason=reason, violations=violations, checks=result.checks,
           evidence={**result.to_json(), **result.evidence},
           attachments=attachments + result.attachments, scope=cell.key, fail_test=False)
    return red
