"""SEC-DB-TLS: the application's own database sessions are encrypted, and the application refuses
a database server that offers no TLS instead of falling back to plain text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx
import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import triage
from releasegate.measure.api import Api
from releasegate.measure.commands import run_in_container
from releasegate.measure.recorder import Recorder
from releasegate.measure.security.db_tls import (
    APP_CONNECTIONS,
    NoTlsObservation,
    app_connections,
    attempts_from,
    no_tls_finding,
    plaintext_findings,
)
from releasegate.measure.security.support import announce, stopwatch
from releasegate.stack import labels
from releasegate.stack.extra import extra_app
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CID = "SEC-DB-TLS"
DB_READY_S = 60.0
AFTER_ATTEMPT_S = 4.0
"""After the first refused attempt, how long the app is still watched for a plain-text retry."""


def _addresses(container: Any) -> set[str]:
    container.reload()
    networks = container.attrs["NetworkSettings"]["Networks"].values()
    return {str(n["IPAddress"]) for n in networks if n.get("IPAddress")}


@pytest.mark.criterion(CID)
def test_app_database_sessions_use_tls(healthy_stack: StackInfo, gate_profile: Profile,
                                       app_container: Any, db_dsn: str, anon: Api,
                                       record: Recorder) -> None:
    addresses = _addresses(app_container)
    sessions = []
    for _ in range(5):  # a lazy pool may hold no session until the app is asked to work
        anon.get(gate_profile.app.health_path)
        with psycopg.connect(db_dsn, connect_timeout=5) as conn:
            sessions = app_connections(conn.execute(APP_CONNECTIONS).fetchall(), addresses)
        if sessions:
            break
        time.sleep(1.0)
    findings = plaintext_findings(sessions, dsn_hint="<the admin DSN>")
    record.findings(CID, triage(findings, gate_profile.section("security").waivers,
                                date.today()),
                    examined=len(sessions), what="database session of the application",
                    scope="sessions", source="pg_stat_activity joined with pg_stat_ssl for the "
                    "application container's addresses",
                    evidence={"app_addresses": sorted(addresses), "sessions": [
                        {"pid": s.pid, "ssl": s.ssl, "tls": s.tls_version, "cipher": s.cipher,
                         "application_name": s.application} for s in sessions]})


@pytest.mark.criterion(CID)
def test_app_refuses_a_database_without_tls(
    healthy_stack: StackInfo, gate_profile: Profile, db_container: Any, docker_client: Any,
    record: Recorder, request: pytest.FixtureRequest,
) -> None:
    hosts = [k for k, v in gate_profile.app.env.items() if "{db.host}" in v]
    if not hosts or not healthy_stack.network:
        record.insufficient(CID, "the app cannot be pointed at another database server: no "
                            "variable of its environment uses {db.host}", scope="refusal")
        return
    timeout_s = gate_profile.section("security").db_tls.refusal_timeout_s
    with stopwatch() as watch, _database_without_tls(docker_client, healthy_stack,
                                                     db_container) as (server, name):
        env: dict[str, str | None] = {k: gate_profile.app.env[k].replace("{db.host}", name)
                                      for k in hosts}
        with extra_app(docker_client, healthy_stack, gate_profile, role="db-tls-check",
                       env=env, wait_s=0.5) as app:
            seen = _watch(app, server, gate_profile.app.health_path, timeout_s)
    announce(request.config, f"security: the app against a database without TLS "
             f"({seen.outcome}) took {watch.seconds:.1f} s")
    finding = no_tls_finding(seen, reproduction=f"start {healthy_stack.startup.image} with "
                             f"{', '.join(hosts)} pointing at a PostgreSQL with ssl = off")
    if finding is None and not seen.proven:
        record.insufficient(CID, f"the app never tried to connect to the database without TLS "
                            f"({seen.outcome}), so its refusal is not shown", scope="refusal")
        return
    record.findings(CID, triage([finding] if finding else [],
                                gate_profile.section("security").waivers, date.today()),
                    examined=1, what="start against a database without TLS", scope="refusal",
                    source="the app's image started beside the stack against a PostgreSQL "
                    "with TLS off; that server's connection log (log_connections)",
                    evidence={"outcome": seen.outcome, "seconds": watch.seconds})


@contextmanager
def _database_without_tls(client: Any, stack: StackInfo,
                          db_container: Any) -> Iterator[tuple[Any, str]]:
    """The run's database image, same credentials, TLS off, on the run's network; removed
    after, and labelled so a crashed run's clean-up removes it too."""
    config = db_container.attrs["Config"]
    env = [e for e in config.get("Env") or [] if e.startswith("POSTGRES_")
           and not e.startswith(("POSTGRES_SSL=", "POSTGRES_SSL_ONLY="))]
    name = f"releasegate-{stack.run_id}-db-notls"
    server = client.containers.run(
        config["Image"], command=["-c", "log_connections=on"], detach=True, name=name,
        environment=[*env, "POSTGRES_SSL=off"], network=stack.network,
        labels=labels.run_labels(stack.run_id, "db-notls"))
    try:
        deadline = time.monotonic() + DB_READY_S
        while run_in_container(server, ["pg_isready", "-h", "127.0.0.1", "-q"]).exit_code:
            if time.monotonic() > deadline:
                pytest.fail(f"the database without TLS was not ready within {DB_READY_S:.0f} s",
                            pytrace=False)
            time.sleep(0.5)
        user = next((e.split("=", 1)[1] for e in env if e.startswith("POSTGRES_USER=")),
                    "postgres")
        ssl = run_in_container(server, ["psql", "-U", user, "-d", "postgres", "-Atc",
                                        "SHOW ssl"])
        if ssl.stdout.strip() != "off":
            pytest.fail(f"the server meant to have no TLS says ssl={ssl.stdout.strip()!r}",
                        pytrace=False)
        yield server, name
    finally:
        server.remove(force=True)


def _watch(app: Any, server: Any, health_path: str, timeout_s: float) -> NoTlsObservation:
    started = time.monotonic()
    first_attempt: float | None = None
    healthy: float | None = None
    exit_code: int | None = app.exit_code
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() - started < timeout_s and exit_code is None:
            app.container.reload()
            if app.container.status in ("exited", "dead"):
                exit_code = int(app.container.attrs["State"].get("ExitCode", -1))
                break
            try:
                if app.base_url and http.get(app.base_url + health_path).status_code == 200:
                    healthy = time.monotonic() - started
                    break
            except httpx.HTTPError:
                pass
            attempts = attempts_from(bytes(server.logs()).decode("utf-8", "replace"))
            if attempts.authorized:
                break
            if attempts.received and first_attempt is None:
                first_attempt = time.monotonic()
            if first_attempt is not None and time.monotonic() - first_attempt > AFTER_ATTEMPT_S:
                break
            time.sleep(0.5)
    logs = bytes(server.logs()).decode("utf-8", "replace")
    tail = " | ".join(app.logs().strip().splitlines()[-2:])[:300]
    return NoTlsObservation(attempts_from(logs), healthy, exit_code,
                            time.monotonic() - started, tail)
