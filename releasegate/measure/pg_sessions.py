"""The application's own database sessions, as the server sees them.

FUNC-PG-RUNNING is about the database the *application* uses, so it is read from the server's
view of the application's connections — ``pg_stat_activity`` joined with ``pg_stat_ssl``, for
the application container's addresses — while the application is being made to use them: which
database, which role, whether over TLS. The server version is that of the server on which those
sessions were seen. Nothing is taken from the harness's own session or from what the application
says about itself.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

SESSIONS_SQL = """
SELECT a.pid, a.datname, a.usename, host(a.client_addr), a.application_name,
       coalesce(s.ssl, false), s.version
  FROM pg_stat_activity AS a
  LEFT JOIN pg_stat_ssl AS s ON s.pid = a.pid
 WHERE a.backend_type = 'client backend'
   AND a.client_addr IS NOT NULL
   AND host(a.client_addr) = ANY(%s)
   AND a.pid <> pg_backend_pid()
   AND a.datname NOT LIKE %s
"""
# Other roles' client addresses are hidden from a role without pg_read_all_stats.
VISIBILITY_SQL = """
SELECT r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'member')
  FROM pg_roles AS r WHERE r.rolname = current_user
"""
WATCH_S = 10.0
SAMPLE_S = 0.1
SETTLE_SAMPLES = 5
"""Samples taken after the first session shows, to catch the rest of a pool."""


@dataclass(frozen=True)
class AppSession:
    pid: int
    database: str
    user: str
    address: str
    application: str
    tls: bool
    tls_version: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def visibility_problem(conn: Any) -> str:
    """Why this connection cannot see other roles' sessions ("" when it can)."""
    row = conn.execute(VISIBILITY_SQL).fetchone()
    if row and row[0]:
        return ""
    return ("the harness's database role can see neither other sessions' addresses nor their "
            "TLS state (it needs superuser or pg_read_all_stats)")


def sample(conn: Any, addresses: Iterable[str], exclude_like: str) -> list[AppSession]:
    rows = conn.execute(SESSIONS_SQL, (list(addresses), exclude_like)).fetchall()
    return [AppSession(int(r[0]), str(r[1] or ""), str(r[2] or ""), str(r[3]), str(r[4] or ""),
                       bool(r[5]), r[6]) for r in rows]


def watch(conn: Any, addresses: Iterable[str], *, exclude_like: str, drive: Callable[[], Any],
          timeout: float = WATCH_S, interval: float = SAMPLE_S) -> list[AppSession]:
    """The application's sessions seen while ``drive`` keeps making it use the database.

    Driving while sampling catches an application that opens a connection per request as well
    as one whose pool fills lazily. Bounded by ``timeout``; stops a few samples after the first
    session shows."""
    addresses = list(addresses)
    stop = threading.Event()

    def keep_driving() -> None:
        while not stop.is_set():
            # Only the database use matters, not the answer (nor a failure to get one).
            with contextlib.suppress(Exception):
                drive()
            stop.wait(interval)

    driver = threading.Thread(target=keep_driving, name="pg-sessions-driver", daemon=True)
    driver.start()
    seen: dict[int, AppSession] = {}
    settle = SETTLE_SAMPLES
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and settle > 0:
            for session in sample(conn, addresses, exclude_like):
                seen.setdefault(session.pid, session)
            if seen:
                settle -= 1
            time.sleep(interval)
    finally:
        stop.set()
        driver.join(timeout=5)
    return sorted(seen.values(), key=lambda s: s.pid)


def major(version: str) -> int | None:
    head = version.strip().split(".")[0].split()[0] if version.strip() else ""
    return int(head) if head.isdigit() else None


def session_checks(sessions: list[AppSession], *, database: str, user: str | None,
                   tls: bool | None) -> list[tuple[str, bool, str]]:
    """(check, ok, detail) for the application's sessions; ``None`` expectations are only shown."""
    def odd(attr: str, want: object) -> list[str]:
        return sorted({f"pid {s.pid}: {getattr(s, attr)!r}" for s in sessions
                       if getattr(s, attr) != want})

    found = [("the application holds connections to this server", bool(sessions),
              f"{len(sessions)} session(s)")]
    if not sessions:
        return found
    wrong_db = odd("database", database)
    found.append((f"every application session uses database {database!r}", not wrong_db,
                  "; ".join(wrong_db[:5])))
    if user is not None:
        wrong_user = odd("user", user)
        found.append((f"every application session is role {user!r}", not wrong_user,
                      "; ".join(wrong_user[:5])))
    if tls:
        plain = [f"pid {s.pid}" for s in sessions if not s.tls]
        found.append(("every application session is encrypted (pg_stat_ssl)", not plain,
                      f"without TLS: {', '.join(plain[:5])}" if plain else
                      ", ".join(sorted({str(s.tls_version) for s in sessions}))))
    return found
