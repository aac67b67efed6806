"""FUNC-PG-RUNNING and FUNC-MIGRATIONS: the app's database is the PostgreSQL the profile names —
read from the server's view of the application's own sessions — and its schema migrations apply
cleanly and idempotently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.measure import pg_sessions
from releasegate.measure.commands import MissingCommand, run_profile_command
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.deploy

SCHEMA_FINGERPRINT = """
SELECT 'column', table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || ':' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
ORDER BY 1, 2
"""


@pytest.mark.criterion("FUNC-PG-RUNNING")
def test_database_is_the_profiles_postgresql(
    stack: StackInfo, gate_profile: Profile, db_dsn: str, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    if not stack.app_container:
        record.insufficient("FUNC-PG-RUNNING", "the application's container is not known, so "
                            "its own database sessions cannot be told from others' (name it: "
                            "--container app=NAME or [external] app_container)")
        return
    app = request.getfixturevalue("app_container")
    app.reload()
    addresses = sorted({str(n.get("IPAddress")) for n in
                        (app.attrs["NetworkSettings"].get("Networks") or {}).values()
                        if n.get("IPAddress")})
    if not addresses:
        record.insufficient("FUNC-PG-RUNNING", "the application container has no network "
                            "address the database could see its sessions come from")
        return
    assert stack.db is not None
    expected = int(gate_profile.option("FUNC-PG-RUNNING", "postgres_major")
                   or (gate_profile.db.version if gate_profile.db else 0))
    health = stack.base_url + gate_profile.app.health_path
    with httpx.Client(timeout=5.0) as client, \
            psycopg.connect(db_dsn, autocommit=True, connect_timeout=5) as conn:
        if problem := pg_sessions.visibility_problem(conn):
            record.insufficient("FUNC-PG-RUNNING", problem)
            return
        # Made to use its database (the health path must touch it) while the server is watched.
        sessions = pg_sessions.watch(conn, addresses, drive=lambda: client.get(health),
                                     exclude_like=stack.scratch_databases_like())
        version = str(conn.execute("SELECT version()").fetchone()[0])  # type: ignore[index]
        server = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    checks = CheckList()
    for check in pg_sessions.session_checks(
            sessions, database=stack.db.database,
            # Where the harness provisioned the database, its role is the only one there is.
            user=stack.db.user if stack.provider == "containers" else None,
            tls=gate_profile.db.tls if gate_profile.db else None):
        checks.add(*check)
    checks.add("the server holding them is PostgreSQL", version.startswith("PostgreSQL"),
               version[:80])
    checks.add(f"its major version is {expected}", pg_sessions.major(server) == expected,
               f"server_version {server}")
    record.checks("FUNC-PG-RUNNING", checks,
                  source="pg_stat_activity joined with pg_stat_ssl for the application "
                         "container's addresses while its health path was requested; server "
                         "version of the server those sessions were on",
                  evidence={"app_addresses": addresses, "server_version": server,
                            "version": version,
                            "app_sessions": [s.as_dict() for s in sessions]})


def _run(container: Any, profile: Profile, name: str, values: dict[str, str],
         checks: CheckList, outputs: dict[str, str]) -> str | None:
    result = run_profile_command(container, profile, name, values)
    outputs[f"{name}-{len(outputs)}"] = result.transcript()
    if checks.add(f"`{name}` exits 0", result.ok, "" if result.ok else result.describe()):
        return result.stdout.strip()
    return None


@pytest.mark.criterion("FUNC-MIGRATIONS")
def test_migrations_apply_cleanly_and_idempotently(
    stack: StackInfo, gate_profile: Profile, app_container: Any,
    scratch_database: Callable[[str], Any], record: Recorder,
) -> None:
    needed = ("migrate", "migration_head", "migration_current")
    if missing := [n for n in needed if n not in gate_profile.commands]:
        record.insufficient("FUNC-MIGRATIONS", f"the profile has no [commands] {missing}")
        return
    checks, outputs = CheckList(), dict[str, str]()
    with scratch_database("migrations") as (dsn, scratch):
        values = {**stack.template_values(), **scratch}
        try:
            first = _run(app_container, gate_profile, "migrate", values, checks, outputs)
            with psycopg.connect(dsn) as conn:
                before = conn.execute(SCHEMA_FINGERPRINT).fetchall()
            checks.add("the first upgrade created a schema", len(before) > 0,
                       f"{len(before)} schema objects")
            second = _run(app_container, gate_profile, "migrate", values, checks, outputs)
            with psycopg.connect(dsn) as conn:
                after = conn.execute(SCHEMA_FINGERPRINT).fetchall()
            changed = sorted(set(before) ^ set(after))
            checks.add("running the upgrade again changes nothing", not changed and
                       second is not None, f"{len(changed)} schema differences: {changed[:5]}")
            head = _run(app_container, gate_profile, "migration_head", values, checks, outputs)
            current = _run(app_container, gate_profile, "migration_current", values, checks,
                           outputs)
            checks.add("the database revision matches the code's head revision",
                       bool(head) and head == current, f"head {head!r}, database {current!r}")
        except MissingCommand as exc:
            record.insufficient("FUNC-MIGRATIONS", str(exc))
            return
    record.checks("FUNC-MIGRATIONS", checks,
                  source="the profile's migration commands run in the app container against "
                         "an empty scratch database; schema read from the catalog",
                  evidence={"schema_objects": len(before), "head": head, "current": current,
                            "first_output_tail": (first or "")[-300:]},
                  attachments=[record.attach("migration-output.txt",
                                             "\n\n".join(f"## {k}\n{v}"
                                                         for k, v in outputs.items()))])
