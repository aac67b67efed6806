"""FUNC-BACKUP-AUTO: the application's own scheduler, switched on at a short interval through its
environment, makes at least two verified backups with nobody asking, and the second restores.

The scheduler runs in another instance of the application (same image, same database), so the
run's application keeps its configuration; the harness only reads that instance's backup
directory through the engine and never runs a command in it until the restore.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.config.sections.backup import INTERVAL_PLACEHOLDER, BackupSettings
from releasegate.measure.backup_files import ArtifactCheck, fetch_and_check, new_artifacts
from releasegate.measure.backup_run import snapshot_dir
from releasegate.measure.db_compare import compare_databases
from releasegate.measure.parts import announce
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.databases import FreshServer
from releasegate.stack.extra import ExtraApp, extra_app
from releasegate.stack.model import StackInfo

from .restoring import restore_artifact

pytestmark = [pytest.mark.backup, pytest.mark.disruptive]
CRITERION = "FUNC-BACKUP-AUTO"
WANTED = 2
POLL_S = 1.0


def _scheduler_env(settings: BackupSettings) -> dict[str, str | None]:
    interval = f"{settings.scheduler_interval_s:g}"
    return {k: v.replace(INTERVAL_PLACEHOLDER, interval) for k, v in
            settings.scheduler_env.items()}


def _watch(extra: ExtraApp, settings: BackupSettings, wait_s: float) -> tuple[
        list[ArtifactCheck], dict[str, float], dict[str, bytes]]:
    """Verified artifacts as they appear (at most ``WANTED``), when each was written (its
    modification time, whole seconds), and the bytes of each."""
    before, _ = snapshot_dir(extra.container, settings)
    seen: dict[str, float] = {}
    verified: list[ArtifactCheck] = []
    data: dict[str, bytes] = {}
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and len(verified) < WANTED:
        after, _ = snapshot_dir(extra.container, settings)
        for name in new_artifacts(before, after, settings):
            if name not in seen:
                seen[name] = after[name].mtime
                data[name], check = fetch_and_check(extra.container, settings, name)
                verified.append(check)
        time.sleep(POLL_S)
    return verified, seen, data


@pytest.mark.criterion(CRITERION)
def test_scheduler_makes_verified_backups_unasked(
    healthy_stack: StackInfo, gate_profile: Profile, backup_settings: BackupSettings,
    docker_client: Any, db_dsn: str, fresh_server: FreshServer, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    if not backup_settings.scheduler_env:
        record.insufficient(CRITERION, "the profile's [backup] scheduler_env is empty: the "
                            "harness cannot switch the application's scheduler on")
        return
    if not backup_settings.dir:
        record.insufficient(CRITERION, "the profile's [backup] dir is not set, so scheduled "
                            "backups could not be looked for")
        return
    interval, wait_s = backup_settings.scheduler_interval_s, backup_settings.wait_for_schedule_s
    checks, evidence = CheckList(), dict[str, Any]()
    started = time.monotonic()
    with extra_app(docker_client, healthy_stack, gate_profile, role="scheduler",
                   env=_scheduler_env(backup_settings)) as extra:
        checks.add("the application starts with its scheduler on", extra.healthy_after_s
                   is not None, f"exit code {extra.exit_code}; {extra.logs()[-300:]}")
        verified, seen, data = _watch(extra, backup_settings, wait_s)
        evidence.update(interval_s=interval, waited_s=round(time.monotonic() - started, 1),
                        backups=[c.evidence() for c in verified])
        checks.add(f"{WANTED} backups appeared within {wait_s:g} s, nobody asking",
                   len(verified) >= WANTED, f"{len(verified)} appeared")
        for check in verified:
            checks.add(f"scheduled backup {check.name} is intact", check.ok,
                       "; ".join(check.problems))
        times = sorted(seen.values())
        if len(times) >= WANTED:
            gap = times[1] - times[0]
            evidence["seconds_between"] = round(gap, 1)
            checks.add("the second came about one interval after the first (a schedule, not a "
                       "burst)", gap >= interval * 0.5, f"{gap:.1f} s apart, interval "
                       f"{interval:g} s")
            _restore_second(healthy_stack, gate_profile, backup_settings, extra, fresh_server,
                            verified[1], data[verified[1].name], db_dsn, checks, evidence)
    record.checks(CRITERION, checks, evidence=evidence,
                  source="the scheduler instance's backup directory, read through the engine "
                         "every second; its second backup restored into a fresh server and "
                         "compared with the source by the harness")
    announce(request.config, f"backup: scheduled backups {time.monotonic() - started:.1f} s")


def _restore_second(stack: StackInfo, profile: Profile, settings: BackupSettings,
                    extra: ExtraApp, server: FreshServer, second: ArtifactCheck, data: bytes,
                    dsn: str, checks: CheckList, evidence: dict[str, Any]) -> None:
    restored = restore_artifact(holder=extra.container, profile=profile, settings=settings,
                                server=server, name=second.name, data=data, fmt=second.format,
                                label="scheduled", values=stack.template_values())
    evidence["restore"] = {"via": restored.via, "seconds": round(restored.seconds, 2)}
    if not checks.add(f"the second scheduled backup restores ({restored.via})", restored.ok,
                      restored.result.describe()):
        return
    # Nothing writes while the scheduler works, so the source now is the source then.
    with psycopg.connect(dsn) as src, psycopg.connect(restored.target.dsn()) as dst:
        tables = compare_databases(src, dst)
    checks.add("the restored backup has the source's tables", bool(tables))
    for table in tables:
        checks.add(f"{table.table}: exact rows and ordered content equal the source",
                   table.equal, table.difference or f"{table.rows_source} rows")
