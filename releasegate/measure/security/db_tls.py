"""SEC-DB-TLS: every connection of the application is encrypted (``pg_stat_ssl``), and pointed at
a server that offers no TLS, the application refuses rather than talking in plain text.

A refusal is proven by the server's own log (``log_connections``): the application's address
tried to connect (``connection received``) and no session of it was ever authorized, while the
application never answered healthy. Without any attempt seen, nothing is proven.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from releasegate.evidence.findings import OWASP_API_2023, Finding

CRITERION = "SEC-DB-TLS"
EXPOSURE = OWASP_API_2023["API8"]
APP_CONNECTIONS = """
SELECT a.pid, a.usename, a.datname, a.application_name, host(a.client_addr), s.ssl,
       s.version, s.cipher
  FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
 WHERE a.client_addr IS NOT NULL
"""
_SESSION_QUERY = ("psql '{dsn}' -c 'SELECT * FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) "
                  "WHERE pid = {pid}'")
_RECEIVED = re.compile(r"\[(\d+)\]\s+LOG:\s+connection received: host=(\S+)")
_AUTHORIZED = re.compile(r"\[(\d+)\]\s+LOG:\s+connection authorized:")


@dataclass(frozen=True)
class Connection:
    pid: int
    user: str
    database: str
    application: str
    address: str
    ssl: bool
    tls_version: str
    cipher: str

    @classmethod
    def from_row(cls, row: Iterable[Any]) -> Connection:
        pid, user, db, app, address, ssl, version, cipher = row
        return cls(int(pid), str(user or ""), str(db or ""), str(app or ""), str(address or ""),
                   bool(ssl), str(version or ""), str(cipher or ""))


def app_connections(rows: Iterable[Iterable[Any]], addresses: set[str]) -> list[Connection]:
    return [c for c in map(Connection.from_row, rows) if c.address in addresses]


def plaintext_findings(connections: list[Connection], *, dsn_hint: str) -> list[Finding]:
    return [Finding(
        tool="pg_stat_ssl", rule="plaintext-db-connection", severity="high",
        criterion=CRITERION, title="the application talks to the database without TLS",
        location=f"database session pid {c.pid} from {c.address}",
        evidence=(f"user {c.user}, database {c.database}, application_name "
                  f"{c.application or '(none)'}, ssl={c.ssl}"),
        reproduction=_SESSION_QUERY.format(dsn=dsn_hint, pid=c.pid),
        owasp=EXPOSURE) for c in connections if not c.ssl]


@dataclass
class Attempts:
    """What a server's connection log says about one client address."""

    received: list[int] = field(default_factory=list)
    authorized: list[int] = field(default_factory=list)


_LOCAL = ("127.0.0.1", "::1", "[local]")


def attempts_from(log: str) -> Attempts:
    """Connections from anywhere but the server itself (where only the harness's own checks
    run): on a server started for the application alone, they are the application's."""
    found = Attempts()
    pids = set()
    for line in log.splitlines():
        if (m := _RECEIVED.search(line)) and m.group(2) not in _LOCAL:
            pids.add(m.group(1))
            found.received.append(int(m.group(1)))
        elif (m := _AUTHORIZED.search(line)) and m.group(1) in pids:
            found.authorized.append(int(m.group(1)))
    return found


@dataclass
class NoTlsObservation:
    attempts: Attempts
    healthy_after_s: float | None
    exit_code: int | None
    waited_s: float
    logs_tail: str

    @property
    def outcome(self) -> str:
        parts = [f"{len(self.attempts.received)} connection attempt(s) seen, "
                 f"{len(self.attempts.authorized)} authorized"]
        if self.healthy_after_s is not None:
            parts.append(f"answered healthy after {self.healthy_after_s:.1f} s")
        elif self.exit_code is not None:
            parts.append(f"exited {self.exit_code}")
        else:
            parts.append(f"not ready after {self.waited_s:.0f} s")
        return "; ".join(parts)

    @property
    def proven(self) -> bool:
        """A refusal (or its absence) was observed, not merely an app that never tried."""
        return bool(self.attempts.received) or self.healthy_after_s is not None


def no_tls_finding(seen: NoTlsObservation, *, reproduction: str) -> Finding | None:
    if seen.healthy_after_s is None and not seen.attempts.authorized:
        return None
    return Finding(
        tool="releasegate-db-tls", rule="accepts-db-without-tls", severity="critical",
        criterion=CRITERION, title="pointed at a database that offers no TLS, the application "
        "connected in plain text instead of refusing", location="startup: database without TLS",
        evidence=f"{seen.outcome}; last output: {seen.logs_tail}", reproduction=reproduction,
        owasp=EXPOSURE)
