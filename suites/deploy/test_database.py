"""FUNC-PG-RUNNING and FUNC-MIGRATIONS: the app's database is the PostgreSQL the profile names,
and its schema migrations apply cleanly and idempotently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.measure.api import Api
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


def _dig(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _major(version: str) -> int | None:
    head = version.strip().split(".")[0].split()[0] if version.strip() else ""
    return int(head) if head.isdigit() else None


@pytest.mark.criterion("FUNC-PG-RUNNING")
def test_database_is_the_profiles_postgresql(
    stack: StackInfo, gate_profile: Profile, db_dsn: str, anon: Api, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    expected = int(gate_profile.option("FUNC-PG-RUNNING", "postgres_major")
                   or (gate_profile.db.version if gate_profile.db else 0))
    checks = CheckList()
    with psycopg.connect(db_dsn, connect_timeout=5) as conn:
        version = str(conn.execute("SELECT version()").fetchone()[0])  # type: ignore[index]
        server = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    checks.add("the server is PostgreSQL", version.startswith("PostgreSQL"), version[:80])
    checks.add(f"server major version is {expected}", _major(server) == expected,
               f"server_version {server}")

    field = "database.server_version"
    response = anon.get(gate_profile.app.health_path)
    reported = _dig(response.json(), field) if response.headers.get(
        "content-type", "").startswith("application/json") else None
    checks.add(f"the app reads the same version over its own connection ({field})",
               reported is not None and _major(str(reported)) == _major(server),
               f"health reports {reported!r}, server {server}")

    peers: list[str] = []
    if stack.app_container:
        app = request.getfixturevalue("app_container")
        app.reload()
        addresses = [n.get("IPAddress") for n in app.attrs["NetworkSettings"]["Networks"].values()]
        with psycopg.connect(db_dsn, connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT host(client_addr) FROM pg_stat_activity WHERE client_addr IS NOT NULL"
            ).fetchall()
        peers = sorted({str(r[0]) for r in rows})
        checks.add("the application container holds connections to this server",
                   any(a in peers for a in addresses if a),
                   f"app addresses {addresses}, connected clients {peers}")
    record.checks("FUNC-PG-RUNNING", checks,
                  source="SELECT version() over the harness DSN; the app's health body; "
                         "pg_stat_activity",
                  evidence={"version": version, "server_version": server,
                            "app_reported": reported, "connected_clients": peers})


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
    checks, outputs = CheckList(), {}
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
