"""SEC-SAST and SEC-DEPS: what can be judged from the source and the shipped dependencies alone.

Static analysis reads the source folder the profile names; the dependency audit reads the
versions installed in the built image (what ships), or the profile's lock file.
"""

from __future__ import annotations

from datetime import date
from importlib.metadata import version
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import triage
from releasegate.measure.recorder import Recorder
from releasegate.measure.security import deps as dependency_audit
from releasegate.measure.security.sast import run_bandit
from releasegate.measure.security.support import (
    ToolFailed,
    announce,
    split_by_floor,
    stopwatch,
)

pytestmark = pytest.mark.security
SAST_FLOOR = "medium"
"""The documented criterion: medium severity or higher fails unless waived."""


@pytest.mark.criterion("SEC-SAST")
def test_static_analysis_finds_nothing_unwaived(
    gate_profile: Profile, record: Recorder, request: pytest.FixtureRequest,
) -> None:
    settings = gate_profile.section("security")
    if settings.source is None:
        record.insufficient("SEC-SAST", "the profile names no source folder to analyse: set "
                            "[security] source")
        return
    with stopwatch() as watch:
        try:
            result = run_bandit(settings.source, exclude=settings.source_exclude)
        except ToolFailed as exc:
            record.error("SEC-SAST", str(exc))
            return
    announce(request.config, f"security: static analysis (bandit, {result.files} files) took "
             f"{watch.seconds:.1f} s")
    counted, listed = split_by_floor(result.findings, SAST_FLOOR)
    record.findings(
        "SEC-SAST", triage(counted, settings.waivers, date.today()), examined=result.files,
        what="Python file", listed=listed,
        source=f"bandit {version('bandit')} JSON report over {settings.source}",
        evidence={"command": result.command, "lines_of_code": result.lines,
                  "skipped_by_nosec": result.skipped_by_nosec, "floor": SAST_FLOOR,
                  "seconds": watch.seconds})


@pytest.mark.criterion("SEC-DEPS")
def test_shipped_dependencies_have_no_known_vulnerability(
    gate_profile: Profile, record: Recorder, request: pytest.FixtureRequest,
) -> None:
    settings = gate_profile.section("security").deps
    max_age = int(gate_profile.option("SEC-DEPS", "advisory_db_max_age_days"))
    with stopwatch() as watch:
        try:
            shipped = _shipped_versions(settings, request)
            audit = dependency_audit.audit(shipped, settings, max_age_days=max_age,
                                           today=date.today())
        except ToolFailed as exc:
            record.error("SEC-DEPS", str(exc))
            return
    announce(request.config, f"security: dependency audit ({len(shipped.versions)} "
             f"distributions, {audit.database}) took {watch.seconds:.1f} s")
    if audit.too_old_reason:
        # A stale database can only miss vulnerabilities: it never clears a dependency, but
        # what it does find still counts (a failure outranks this part).
        record.insufficient("SEC-DEPS", audit.too_old_reason, scope="database age")
    waivers = gate_profile.section("security").waivers
    record.findings(
        "SEC-DEPS", triage(audit.findings, waivers, date.today()),
        examined=len(shipped.versions), what="distribution", source=audit.source,
        evidence={**audit.evidence(), "versions_from": shipped.origin,
                  "seconds": watch.seconds})


def _shipped_versions(settings: Any, request: pytest.FixtureRequest) -> Any:
    if settings.versions_from == "lock_file":
        return dependency_audit.versions_from_lock_file(settings.lock_file)
    container = request.getfixturevalue("app_container")
    return dependency_audit.versions_in_container(container, settings.python)
