"""SEC-DB-TLS logic: the app's sessions from pg_stat_ssl, and a refusal proven from the server's
connection log rather than assumed from an app that never tried."""

from __future__ import annotations

from releasegate.measure.security.db_tls import (
    Attempts,
    NoTlsObservation,
    app_connections,
    attempts_from,
    no_tls_finding,
    plaintext_findings,
)

LOG = """\
2026-11-29 19:04:00.037 UTC [94] LOG:  connection received: host=127.0.0.1 port=55046
2026-11-29 19:04:00.338 UTC [95] LOG:  connection received: host=172.27.0.5 port=60572
2026-11-29 19:04:00.342 UTC [96] LOG:  connection received: host=172.27.0.5 port=60574
2026-11-29 19:04:00.353 UTC [96] LOG:  connection authenticated: identity="u" method=scram
2026-11-29 19:04:00.353 UTC [96] LOG:  connection authorized: user=u database=d
2026-11-29 19:04:00.400 UTC [94] LOG:  connection authorized: user=u database=postgres
"""


def test_attempts_from_other_hosts_and_which_were_authorized() -> None:
    seen = attempts_from(LOG)
    assert seen.received == [95, 96] and seen.authorized == [96]


def test_only_the_apps_plain_text_sessions_are_findings() -> None:
    rows = [(1, "app", "db", "app", "172.27.0.5", True, "TLSv1.3", "x"),
            (2, "app", "db", "app", "172.27.0.5", False, None, None),
            (3, "admin", "db", "psql", "172.27.0.1", False, None, None)]
    sessions = app_connections(rows, {"172.27.0.5"})
    assert [s.pid for s in sessions] == [1, 2]
    found = plaintext_findings(sessions, dsn_hint="<dsn>")
    assert [(f.rule, f.location) for f in found] == [
        ("plaintext-db-connection", "database session pid 2 from 172.27.0.5")]


def observation(received: list[int], authorized: list[int], healthy: float | None = None,
                exit_code: int | None = None) -> NoTlsObservation:
    return NoTlsObservation(Attempts(received, authorized), healthy, exit_code, 6.0, "")


def test_a_refusal_needs_an_attempt_and_no_authorized_session() -> None:
    refused = observation([95], [])
    assert refused.proven and no_tls_finding(refused, reproduction="") is None
    never_tried = observation([], [], exit_code=1)
    assert not never_tried.proven and no_tls_finding(never_tried, reproduction="") is None
    plain = observation([95], [95])
    found = no_tls_finding(plain, reproduction="")
    assert found is not None and found.severity == "critical"
    healthy = no_tls_finding(observation([], [], healthy=2.0), reproduction="")
    assert healthy is not None and "answered healthy" in healthy.evidence
