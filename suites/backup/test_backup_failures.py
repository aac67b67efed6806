"""REL-BACKUP-FAIL-ALERT: a backup that cannot succeed says so loudly.

Each way a backup breaks in production is provoked for real: the database unreachable, wrong
credentials, the dump process killed midway, a full disk (a tiny tmpfs as the backup directory).
Each must end with a non-zero exit, leave no artifact promoted (no new artifact, the ``latest``
pointer untouched), and raise an alert that reaches the harness's receiver within the limit. A
damaged artifact (bytes flipped) must make the restore fail loudly and leave nothing restored.
"""

from __future__ import annotations

import posixpath
import secrets
import threading
import time
from typing import Any

import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.config.sections.backup import BackupSettings
from releasegate.measure import processes
from releasegate.measure.alerts import wait_for_alert
from releasegate.measure.backup_files import (
    dump_format,
    flip_bytes,
    list_dir,
    put_file,
    read_file,
)
from releasegate.measure.backup_run import BackupRun, run_backup
from releasegate.measure.commands import run_in_container
from releasegate.measure.db_compare import user_tables
from releasegate.measure.db_hold import table_locked
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.databases import FreshServer, database_env
from releasegate.stack.extra import extra_app
from releasegate.stack.model import StackInfo

from .restoring import restore_artifact

pytestmark = [pytest.mark.backup, pytest.mark.disruptive]
CRITERION = "REL-BACKUP-FAIL-ALERT"
SOURCE = ("exit code of the backup command; the backup directory read through the engine before "
          "and after; alerts as received by the harness's HTTP receiver")
FULL_DISK = "size=16k"
"""A backup directory this small cannot hold any dump."""
DUMP_APPEARS_S = 30.0


def _needs(profile: Profile, settings: BackupSettings) -> str:
    if "backup" not in profile.commands:
        return "the profile has no [commands] backup"
    if not settings.dir:
        return "the profile's [backup] dir is not set, so no artifact could be looked for"
    return ""


def judge_failed_backup(run: BackupRun, alerts_url: str, settings: BackupSettings,
                        limit_s: float, checks: CheckList) -> dict[str, Any]:
    checks.add("the backup command exits non-zero", not run.result.ok, run.result.describe())
    checks.add("no new artifact was left in the backup directory", not run.new,
               f"new: {run.new}")
    checks.add("the latest pointer was not moved", not run.latest_moved,
               f"{run.latest_before!r} → {run.latest_after!r}")
    waited = max(0.0, limit_s - (time.time() - run.started))
    alert = wait_for_alert(alerts_url, dict(settings.alert_match), timeout=waited,
                           since=run.started)
    delay = None if alert is None else round(alert["received_at"] - run.started, 3)
    checks.add(f"an alert reached the receiver within {limit_s:g} s", alert is not None,
               f"none matching {settings.alert_match or 'any'} after {limit_s:g} s"
               if alert is None else f"after {delay} s")
    return {**run.evidence(), "alert_after_s": delay,
            "alert": alert["body"] if alert else None}


def _killed_midway(container: Any, profile: Profile, settings: BackupSettings,
                   values: dict[str, str], dsn: str, evidence: dict[str, Any]) -> BackupRun:
    result: list[BackupRun] = []
    thread = threading.Thread(target=lambda: result.append(
        run_backup(container, profile, settings, values)), daemon=True)
    with table_locked(dsn) as table:
        thread.start()
        dump = processes.wait_for(container, settings.dump_process, timeout=DUMP_APPEARS_S)
        evidence["held_table"] = table
        evidence["killed"] = processes.kill(container, dump) if dump else \
            f"no {settings.dump_process} process appeared within {DUMP_APPEARS_S:g} s"
    thread.join(timeout=120)
    if not result:
        raise RuntimeError("the backup command did not end within 120 s of its dump dying")
    return result[0]


def _app_user(container: Any) -> str:
    ids = [run_in_container(container, ["id", flag]) for flag in ("-u", "-g")]
    if all(r.ok for r in ids):
        return f",uid={ids[0].stdout.strip()},gid={ids[1].stdout.strip()},mode=0700"
    return ",mode=1777"


@pytest.mark.criterion(CRITERION)
@pytest.mark.parametrize("case", ["unreachable", "bad-credentials", "killed-midway",
                                  "full-disk"])
def test_failed_backup_is_refused_and_alerted(
    case: str, healthy_stack: StackInfo, gate_profile: Profile, backup_settings: BackupSettings,
    app_container: Any, docker_client: Any, db_dsn: str, alerts_url: str, record: Recorder,
) -> None:
    if reason := _needs(gate_profile, backup_settings):
        record.insufficient(CRITERION, reason, scope=case)
        return
    values = healthy_stack.template_values()
    limit = float(gate_profile.option(CRITERION, "alert_timeout_s"))
    checks, evidence = CheckList(), dict[str, Any]()
    if case in ("unreachable", "bad-credentials"):
        change = {"db.port": "1"} if case == "unreachable" else {
            "db.password": f"wrong-{secrets.token_hex(8)}"}
        env = database_env(gate_profile, healthy_stack, change)
        if not env:
            record.insufficient(CRITERION, "no variable of the application's environment uses "
                                "{db.*} placeholders, so the backup cannot be pointed at a "
                                "broken database", scope=case)
            return
        run = run_backup(app_container, gate_profile, backup_settings, values, env=env)
    elif case == "killed-midway":
        run = _killed_midway(app_container, gate_profile, backup_settings, values, db_dsn,
                             evidence)
        checks.add(f"the {backup_settings.dump_process} process was found and killed",
                   str(evidence.get("killed", "")).startswith("signal"),
                   str(evidence.get("killed")))
    else:
        tmpfs = {backup_settings.dir: FULL_DISK + _app_user(app_container)}
        with extra_app(docker_client, healthy_stack, gate_profile, role="full-disk",
                       tmpfs=tmpfs) as extra:
            run = run_backup(extra.container, gate_profile, backup_settings, values)
        evidence["tmpfs"] = tmpfs
    evidence.update(judge_failed_backup(run, alerts_url, backup_settings, limit, checks))
    record.checks(CRITERION, checks, source=SOURCE, evidence=evidence, scope=case)


@pytest.mark.criterion(CRITERION)
def test_damaged_artifact_fails_the_restore_loudly(
    healthy_stack: StackInfo, gate_profile: Profile, backup_settings: BackupSettings,
    app_container: Any, fresh_server: FreshServer, record: Recorder,
) -> None:
    scope = "damaged artifact"
    if reason := _needs(gate_profile, backup_settings):
        record.insufficient(CRITERION, reason, scope=scope)
        return
    values = healthy_stack.template_values()
    made = run_backup(app_container, gate_profile, backup_settings, values)
    name = made.artifact
    if not made.result.ok or name is None:
        record.insufficient(CRITERION, f"no good backup to damage: {made.result.describe()}",
                            scope=scope)
        return
    path = posixpath.join(backup_settings.dir, name)
    original = read_file(app_container, path)
    entry = list_dir(app_container, backup_settings.dir)[name]
    put_file(app_container, path, flip_bytes(original), uid=entry.uid, mode=entry.mode & 0o777)
    try:
        restored = restore_artifact(holder=app_container, profile=gate_profile,
                                    settings=backup_settings, server=fresh_server, name=name,
                                    data=flip_bytes(original), fmt=dump_format(original),
                                    label="damaged",
                                    values=values)
    finally:
        put_file(app_container, path, original, uid=entry.uid, mode=entry.mode & 0o777)
    with psycopg.connect(restored.target.dsn()) as conn:
        left = user_tables(conn)
    checks = CheckList()
    checks.add(f"the restore ({restored.via}) of the damaged artifact exits non-zero",
               not restored.ok, restored.result.describe())
    checks.add("the restore says why it failed",
               bool((restored.result.stdout + restored.result.stderr).strip()),
               "it printed nothing")
    checks.add("nothing was half-restored (the target has no tables)", not left,
               f"{len(left)} tables: {', '.join(left[:8])}")
    record.checks(CRITERION, checks, source="the restore command's exit code and output; the "
                  "target database read by the harness", scope=scope,
                  evidence={"artifact": name, "restore": restored.result.describe(),
                            "tables_left": left, "via": restored.via})
