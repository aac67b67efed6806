"""SEC-INJECTION-SQL: payload dictionaries into every string parameter, judged by the answer,
the database's own log, boolean pairs and pg_sleep timing; the error bodies of that traffic are
inspected for FUNC-ERROR-HANDLING and SEC-LOG-NO-SENSITIVE."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import triage
from releasegate.measure.api import Api, LoginAttempt
from releasegate.measure.recorder import Recorder
from releasegate.measure.security import sqli
from releasegate.measure.security.dynamic import (
    insufficient,
    payload_folder,
    probe_inputs,
    timed,
)
from releasegate.measure.security.errorcheck import (
    ErrorInspector,
    guarded,
    planted_pii,
    raise_first,
    record_inspection,
)
from releasegate.measure.security.openapi import Resolver
from releasegate.measure.security.sessions import probing_session
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CRITERIA = ("SEC-INJECTION-SQL", "FUNC-ERROR-HANDLING", "SEC-LOG-NO-SENSITIVE")


def log_statements(stack: StackInfo) -> str:
    """Make sure failing statements reach the server log (an image of the user's own may not
    say so); returns what was done, for evidence."""
    if stack.db is None:
        return "no database access: log_min_error_statement left as the server has it"
    try:
        with psycopg.connect(stack.db.dsn(), autocommit=True, connect_timeout=10) as conn:
            conn.execute("ALTER SYSTEM SET log_min_error_statement = 'error'")
            conn.execute("SELECT pg_reload_conf()")
    except psycopg.Error as exc:
        return f"could not set log_min_error_statement: {type(exc).__name__}"
    return "log_min_error_statement = error (ALTER SYSTEM, reloaded)"


@pytest.mark.criterion(*CRITERIA)
def test_no_parameter_reaches_sql_as_code(
    healthy_stack: StackInfo, gate_profile: Profile, admin_login: LoginAttempt, anon: Api,
    record: Recorder, durations: str, request: pytest.FixtureRequest,
) -> None:
    with timed(request, "SQL injection") as watch:
        loaded = probe_inputs(record, anon.http, gate_profile.app.openapi_path, admin_login,
                              CRITERIA, "probe")
        if loaded is None:
            return
        try:
            payloads = sqli.Payloads.load(payload_folder(gate_profile))
        except FileNotFoundError as exc:
            insufficient(record, CRITERIA, str(exc))
            return
        document, ops, admin = loaded
        settings = gate_profile.section("injection")
        values = {**healthy_stack.template_values(), **planted_pii(healthy_stack.run_id)}
        session, why, setup = probing_session(
            gate_profile, gate_profile.section("probing"), base_url=healthy_stack.base_url,
            admin=admin, values=values)
        if session is None:
            insufficient(record, CRITERIA, why)
            return
        logging = log_statements(healthy_stack)
        resolver = Resolver(document)
        targets, skipped = sqli.targets(ops, resolver)
        inspector = ErrorInspector.for_run(gate_profile, healthy_stack.secrets,
                                           healthy_stack.run_id)
        budget = settings.budget(durations)
        started = time.time()
        probe = sqli.SqliProbe(session.http, resolver, inspector, payloads,
                               captured=dict(setup.get("captured") or {}),
                               sleep_s=settings.sleep_s,
                               budget=sqli.Budget(budget.max_requests, budget.max_seconds))
        result = probe.run(targets)
        evidence: dict[str, Any] = {
            "targets": len(targets), "probed": result.probed, "requests": result.requests,
            "operations_left_out": skipped, "not_probed": result.not_probed,
            "payload_counts": {"error": len(payloads.errors), "boolean": len(payloads.booleans),
                               "time": len(payloads.sleeps)},
            "database_log": logging, "seconds": watch.elapsed(), "budget": vars(budget)}
        failures: list[BaseException] = []
        findings = list(result.findings)
        if healthy_stack.db_container:
            db = request.getfixturevalue("db_container")
            time.sleep(0.5)  # the server writes its log asynchronously
            lines = sqli.parse_docker_log(db.logs(since=int(started) - 1, timestamps=True))
            findings += sqli.log_findings(result, lines)
            evidence["database_log_lines"] = len(lines)
        else:
            record.insufficient("SEC-INJECTION-SQL", "the database container is not reachable, "
                                "so its log could not serve as an oracle", scope="database log")
        guarded(lambda: record.findings(
            "SEC-INJECTION-SQL", triage(findings, gate_profile.section("security").waivers,
                                        date.today()),
            examined=len(result.probed), what="parameter", scope="parameters",
            source="payload dictionaries sent through the probing session; oracles: database "
                   "errors in answers and in the server log, boolean pairs, pg_sleep timing "
                   "(mean + 7σ)", evidence=evidence), failures)
        if result.not_probed:
            record.insufficient("SEC-INJECTION-SQL", f"{len(result.not_probed)} parameter(s) "
                                "not probed: the request or time budget ran out",
                                scope="unprobed parameters")
        failures += record_inspection(record, inspector, sqli.SCOPE,
                                      source="every 4xx/5xx of the SQL-injection probe")
        raise_first(failures)
