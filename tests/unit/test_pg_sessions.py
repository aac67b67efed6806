"""FUNC-PG-RUNNING judges the application's own sessions, as the server lists them."""

from __future__ import annotations

from typing import Any

from releasegate.measure.pg_sessions import AppSession, major, session_checks, watch
from releasegate.stack.model import StackInfo


def s(pid: int, database: str = "rento", user: str = "rento", tls: bool = True) -> AppSession:
    return AppSession(pid, database, user, "10.0.0.5", "rento", tls, "TLSv1.3" if tls else None)


def failed(sessions: list[AppSession], **kw: Any) -> list[str]:
    kw.setdefault("database", "rento")
    kw.setdefault("user", "rento")
    kw.setdefault("tls", True)
    return [name for name, ok, _ in session_checks(sessions, **kw) if not ok]


def test_the_applications_sessions_on_the_right_database_over_tls_pass() -> None:
    checks = session_checks([s(1), s(2)], database="rento", user="rento", tls=True)
    assert [ok for _, ok, _ in checks] == [True] * 4
    assert "TLSv1.3" in checks[-1][2]


def test_no_session_seen_is_a_violation() -> None:
    assert failed([]) == ["the application holds connections to this server"]


def test_a_plain_connection_wrong_database_or_role_is_a_violation() -> None:
    assert failed([s(1), s(2, tls=False)]) == ["every application session is encrypted "
                                              "(pg_stat_ssl)"]
    assert failed([s(1, database="postgres")]) == ["every application session uses database "
                                                   "'rento'"]
    assert failed([s(1, user="postgres")]) == ["every application session is role 'rento'"]


def test_unknown_expectations_are_shown_not_judged() -> None:
    assert len(session_checks([s(1, user="x", tls=False)], database="rento", user=None,
                              tls=None)) == 2


def test_server_major_version() -> None:
    assert (major("15.4 (Debian 15.4-1)"), major("17beta1"), major("")) == (15, None, None)


class _Conn:
    """Sessions appear only after the application has been made to use the database."""

    def __init__(self) -> None:
        self.driven = 0
        self.queries: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: tuple[Any, ...]) -> _Conn:
        self.queries.append(params)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        if not self.driven:
            return []
        return [(7, "rento", "rento", "10.0.0.5", "rento", True, "TLSv1.3")]


def test_sessions_are_watched_while_the_application_is_driven() -> None:
    conn = _Conn()

    def drive() -> None:
        conn.driven += 1

    sessions = watch(conn, ["10.0.0.5"], exclude_like="rg\\_%\\_run1", drive=drive,
                     timeout=5, interval=0.01)
    assert conn.driven >= 1 and [x.pid for x in sessions] == [7]
    assert conn.queries[0] == (["10.0.0.5"], "rg\\_%\\_run1")


def test_the_runs_scratch_databases_are_not_the_applications() -> None:
    info = StackInfo(run_id="ab_12", provider="containers", base_url="")
    assert info.scratch_database("migrations") == "rg_migrations_ab_12"
    assert info.scratch_databases_like() == "rg\\_%\\_ab\\_12"
