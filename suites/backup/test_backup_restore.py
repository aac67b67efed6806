"""PERF-BACKUP-DURATION and REL-BACKUP-RESTORE: a backup of the reference data volume, made by the
application's own command while canary writes keep arriving, restored into a fresh server.

A backup only counts once restored: every table's exact rows and ordered content equal the
source at the dump's snapshot, the schemas agree, the migration revision is the same, the
application started on the restored database works, and the canaries say exactly where the
snapshot was (every write acknowledged before it is there, none sent after it).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.config.sections.backup import BackupSettings
from releasegate.config.sections.reliability import ReliabilitySettings, WriteRecipe
from releasegate.measure import pg_tools
from releasegate.measure.api import Api
from releasegate.measure.backup_files import (
    CUSTOM,
    ArtifactCheck,
    fetch_and_check,
    manifest_time,
    put_file,
)
from releasegate.measure.backup_run import BackupRun, run_backup
from releasegate.measure.commands import run_profile_command
from releasegate.measure.db_compare import LeaveOut, compare_databases, row_counts
from releasegate.measure.ledger import WriteLedger
from releasegate.measure.parts import Parts, announce
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.measure.rpo import check_canaries
from releasegate.measure.traffic import Traffic, read_back_sql
from releasegate.stack.databases import PG_PORT, FreshServer, database_env
from releasegate.stack.extra import extra_app
from releasegate.stack.model import DatabaseEndpoint, StackInfo

from .restoring import Restored, inside, restore_artifact, scratch_values
from .smoke import smoke

pytestmark = [pytest.mark.backup, pytest.mark.disruptive]
DURATION, RESTORE = "PERF-BACKUP-DURATION", "REL-BACKUP-RESTORE"
SETTLE_S = 1.0
"""Canaries run this long before the backup starts and after it ends."""


def _unusable(profile: Profile, settings: BackupSettings) -> str:
    if "backup" not in profile.commands:
        return "the profile has no [commands] backup: there is no backup to measure"
    if not settings.dir:
        return ("the profile's [backup] dir is not set: the harness cannot find the artifact "
                "the backup command writes")
    return ""


@pytest.mark.criterion(DURATION, RESTORE)
def test_reference_backup_restores_exactly(
    healthy_stack: StackInfo, gate_profile: Profile, backup_settings: BackupSettings,
    app_container: Any, docker_client: Any, db_dsn: str, fresh_server: FreshServer, logged_in: Api,
    record: Recorder, request: pytest.FixtureRequest,
) -> None:
    if reason := _unusable(gate_profile, backup_settings):
        record.insufficient(DURATION, reason)
        record.insufficient(RESTORE, reason)
        return
    parts, timings = Parts(record), dict[str, float]()
    values = healthy_stack.template_values()
    reference = _seed(app_container, gate_profile, values, db_dsn, timings)
    recipe: WriteRecipe = gate_profile.section("reliability").writes
    ledger = WriteLedger("canary")
    run = _backup_with_canaries(healthy_stack, logged_in, gate_profile, backup_settings, recipe,
                                ledger, app_container, values)
    timings["backup_s"] = round(run.seconds, 2)
    duration = CheckList()
    duration.add("the backup command exits 0", run.result.ok, run.result.describe())
    name = run.artifact
    duration.add(f"a new artifact appeared in {backup_settings.dir}", name is not None,
                 f"new files: {run.new}")
    data, artifact, listing = b"", None, pg_tools.Listing()
    if name:
        data, artifact = fetch_and_check(app_container, backup_settings, name)
        for problem in artifact.problems:
            duration.add("the artifact is intact", False, problem)
        listing = _check_listing(fresh_server, name, data, artifact, db_dsn, duration)
    evidence = {**run.evidence(), "artifact": artifact.evidence() if artifact else None,
                "reference_rows": reference}
    if isinstance(reference, str):
        parts.insufficient(DURATION, reference)
    else:
        parts.measured(DURATION, round(run.seconds, 3), duration, evidence=evidence,
                       source="wall clock (monotonic) around the backup command run in the "
                              "application container; artifact read and hashed by the harness")
    if name is None or artifact is None or not artifact.ok:
        parts.checks(RESTORE, CheckList([*duration.checks]), evidence=evidence,
                     source="the backup command's artifact, read by the harness")
        parts.finish()
        return
    restore = _restore_and_verify(
        healthy_stack, gate_profile, backup_settings, app_container, docker_client, db_dsn,
        fresh_server, recipe, ledger, run, name, data, artifact, listing, timings)
    parts.checks(RESTORE, restore.checks, evidence={**evidence, **restore.evidence,
                                                    "timings_s": timings},
                 source=f"restored with {restore.via} into a fresh PostgreSQL server; tables, "
                        "schemas and canaries read by the harness over its own connections")
    announce(request.config, "backup: " + ", ".join(f"{k.removesuffix('_s')} {v:.1f} s"
                                                    for k, v in timings.items()))
    parts.finish()


def _seed(container: Any, profile: Profile, values: dict[str, str], dsn: str,
          timings: dict[str, float]) -> dict[str, int] | str:
    """Load the reference volume; its row counts, or why there is no reference volume."""
    if "seed" not in profile.commands:
        return ("the profile has no [commands] seed: the reference data volume the backup "
                "must be timed at is unknown")
    result = run_profile_command(container, profile, "seed", values)
    timings["seed_s"] = round(result.seconds, 2)
    if not result.ok:
        return f"seeding the reference volume failed: {result.describe()}"
    with psycopg.connect(dsn) as conn:
        counts = row_counts(conn)
    return counts if sum(counts.values()) else "the seed command left every table empty"


def _backup_with_canaries(stack: StackInfo, api: Api, profile: Profile,
                          settings: BackupSettings, recipe: WriteRecipe, ledger: WriteLedger,
                          container: Any, values: dict[str, str]) -> BackupRun:
    if not recipe.defined:
        return run_backup(container, profile, settings, values)
    rel: ReliabilitySettings = profile.section("reliability")
    with Traffic(stack.base_url, headers=dict(api.http.headers), recipe=recipe, ledger=ledger,
                 values=values, interval_s=settings.canary_interval_ms / 1000,
                 timeout_s=rel.request_timeout_s, max_s=3600):
        time.sleep(SETTLE_S)
        run = run_backup(container, profile, settings, values)
        time.sleep(SETTLE_S)
    return run


def _check_listing(server: FreshServer, name: str, data: bytes, artifact: ArtifactCheck,
                   dsn: str, checks: CheckList) -> pg_tools.Listing:
    """PostgreSQL's own reader must read a custom-format artifact and find every table's data."""
    if artifact.format != CUSTOM:
        return pg_tools.Listing()
    put_file(server.container, f"/tmp/{name}", data)
    result, listing = pg_tools.list_archive(server.container, f"/tmp/{name}")
    checks.add("pg_restore --list reads the artifact", result.ok, result.describe())
    with psycopg.connect(dsn) as conn:
        schema = str((conn.execute("SELECT current_schema()").fetchone() or ("public",))[0])
        counts = row_counts(conn)
    missing = sorted(t for t, n in counts.items() if n and f"{schema}.{t}" not in listing.tables)
    checks.add("the artifact holds the data of every non-empty table", result.ok and not missing,
               f"no data for {', '.join(missing)}" if missing else f"{len(counts)} tables")
    return listing


class _Verdict:
    def __init__(self) -> None:
        self.checks = CheckList()
        self.evidence: dict[str, Any] = {}
        self.via = ""


def _restore_and_verify(stack: StackInfo, profile: Profile, settings: BackupSettings,
                        app_container: Any, client: Any, dsn: str, server: FreshServer,
                        recipe: WriteRecipe, ledger: WriteLedger, run: BackupRun, name: str,
                        data: bytes, artifact: ArtifactCheck, listing: pg_tools.Listing,
                        timings: dict[str, float]) -> _Verdict:
    out = _Verdict()
    values = stack.template_values()
    restored = restore_artifact(holder=app_container, profile=profile, settings=settings,
                                server=server, name=name, data=data, fmt=artifact.format,
                                label="restore", values=values)
    out.via = restored.via
    timings["restore_s"] = round(restored.seconds, 2)
    if not out.checks.add(f"the restore ({restored.via}) exits 0", restored.ok,
                          restored.result.describe()):
        return out
    leave_out = {recipe.sql_table: LeaveOut(recipe.sql_column, ledger.prefix)} \
        if recipe.defined and recipe.sql_table else {}
    started = time.monotonic()
    with psycopg.connect(dsn) as src, psycopg.connect(restored.target.dsn()) as dst:
        tables = compare_databases(src, dst, leave_out)
    timings["compare_s"] = round(time.monotonic() - started, 2)
    out.checks.add("the source has tables to compare", bool(tables), f"{len(tables)} tables")
    for table in tables:
        out.checks.add(f"{table.table}: exact rows and ordered content equal the source",
                       table.equal, table.difference or f"{table.rows_source} rows")
    out.evidence["tables"] = {t.table: t.evidence() for t in tables}
    _schema_and_revision(stack, profile, app_container, server, restored, out)
    present = _rpo(recipe, ledger, run, artifact, listing, settings, restored, dsn, out)
    _app_on_restored(stack, profile, client, server, restored, recipe, ledger, present, out,
                     timings)
    return out


def _stack_db_inside(stack: StackInfo) -> DatabaseEndpoint:
    """The run's database as another container on the run network reaches it."""
    assert stack.db is not None and stack.db_internal_host
    host, _, port = stack.db_internal_host.partition(":")
    return DatabaseEndpoint(host, int(port or 5432), stack.db.user, stack.db.password,
                            stack.db.database, stack.db.sslmode)


def _schema_and_revision(stack: StackInfo, profile: Profile, app_container: Any,
                         server: FreshServer, restored: Restored, out: _Verdict) -> None:
    source = pg_tools.schema_dump(server.container, _stack_db_inside(stack))
    target = pg_tools.schema_dump(server.container, inside(server, restored.target))
    if out.checks.add("both schemas can be dumped", source.ok and target.ok,
                      (source if not source.ok else target).describe()):
        diff = pg_tools.schema_diff(source.stdout, target.stdout)
        out.checks.add("the restored schema equals the source's (pg_dump --schema-only, "
                       "normalised)", not diff, "\n".join(diff)[:800])
        out.evidence["schema_statements"] = len(pg_tools.normalise_schema(source.stdout))
    if "migration_current" not in profile.commands:
        out.evidence["migration_revision"] = "not compared: no [commands] migration_current"
        return
    source_db = _stack_db_inside(stack)
    revisions = [run_profile_command(app_container, profile, "migration_current",
                                     {**stack.template_values(), **placeholders})
                 for placeholders in (scratch_values(source_db.host, source_db.port, source_db),
                                      scratch_values(server.alias, PG_PORT, restored.target))]
    last = [(r.stdout.strip().splitlines() or [""])[-1] for r in revisions]
    out.checks.add("the restored database is at the source's migration revision",
                   all(r.ok for r in revisions) and last[0] == last[1] and bool(last[0]),
                   f"source {last[0]!r}, restored {last[1]!r}")
    out.evidence["migration_revision"] = last[0]


def _rpo(recipe: WriteRecipe, ledger: WriteLedger, run: BackupRun, artifact: ArtifactCheck,
         listing: pg_tools.Listing, settings: BackupSettings, restored: Restored, dsn: str,
         out: _Verdict) -> dict[str, int]:
    if not recipe.defined or not recipe.sql_table:
        out.checks.add("canary writes located the snapshot", False, "the profile's "
                       "[reliability.writes] has no write and sql_table for canaries")
        return {}
    lower = max(filter(None, [run.started, manifest_time(artifact,
                                                         settings.manifest_snapshot_time)]))
    # pg_dump stamps the archive in whole seconds, just before it takes its snapshot.
    upper = min(filter(None, [run.finished, listing.created_at and listing.created_at + 2]))
    present = read_back_sql(restored.target.dsn(), recipe, ledger.prefix)
    source = read_back_sql(dsn, recipe, ledger.prefix)
    if isinstance(present, str) or isinstance(source, str):
        out.checks.add("the canaries can be read back", False, str(present) + str(source))
        return {}
    check = check_canaries(ledger.writes, present, lower=lower, upper=upper)
    for problem in check.problems:
        out.checks.add("restored canaries match the snapshot", False, problem)
    lost = [w.id for w in ledger.writes if w.outcome == "ok" and w.id not in source]
    out.checks.add("every acknowledged canary is in the source database", not lost,
                   f"{len(lost)} missing: {lost[:5]}")
    if not check.problems:
        out.checks.add("restored canaries match the snapshot", True,
                       f"{check.present} of {check.attempted} canaries restored")
    out.evidence["rpo"] = {**check.evidence(), "writes": ledger.counts()}
    return present


def _app_on_restored(stack: StackInfo, profile: Profile, client: Any, server: FreshServer,
                     restored: Restored, recipe: WriteRecipe, ledger: WriteLedger,
                     present: dict[str, int], out: _Verdict, timings: dict[str, float]) -> None:
    env = database_env(profile, stack, server.app_values(restored.target.database))
    out.checks.add("the application's database settings can be pointed at another server",
                   bool(env), "no variable of the app's environment uses {db.*} placeholders")
    if not env:
        return
    with extra_app(client, stack, profile, role="restored-app", env=env) as extra:
        timings["app_on_restored_s"] = round(extra.healthy_after_s or 0.0, 2)
        out.evidence["smoke"] = smoke(extra, profile, stack, recipe, present, ledger.prefix,
                                      out.checks)
    rto = timings.get("restore_s", 0.0) + (extra.healthy_after_s or 0.0)
    timings["rto_s"] = round(rto, 2)
    out.evidence["rto_s"] = round(rto, 2) if extra.healthy_after_s is not None else None
