"""Statement times from the database itself, while a load runs.

``pg_stat_statements`` (reset when the window opens) gives every statement's calls, mean and
maximum — but a mean is not a p95: a statement that takes 2 ms 94 times and 3 s 6 times has a
mean of 182 ms and a p95 of 3 s, and the mean of a mixture of statements hides its slow tail
entirely. A p95 needs every call's time, so for the window the harness sets
``log_min_duration_statement = 0`` (at run time: ``ALTER SYSTEM`` and a reload, no restart) and
reads each ``duration: … ms`` line the server writes to its log, then resets the setting.
Sampling ``pg_stat_activity`` instead would see only statements long enough to be caught in
flight, i.e. miss exactly the short ones that make up most of the distribution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

_DURATION = re.compile(
    r"\[(\d+)\][^\n]*?duration: ([0-9]+(?:\.[0-9]+)?) ms\s+(statement|parse|bind|execute)"
    r"[^:\n]*: ?([^\n]*)")
_CONTROL = re.compile(r"\s*(;?\s*$|(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|START TRANSACTION)\b)",
                      re.IGNORECASE)

TOP_STATEMENTS = """
SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 160), calls, mean_exec_time,
       max_exec_time, stddev_exec_time, total_exec_time
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC LIMIT 15
"""


def statement_durations_ms(log_text: str) -> list[float]:
    """Each executed statement's duration from a PostgreSQL log: a simple-protocol
    ``statement``, or an extended-protocol ``execute`` plus the ``parse`` and ``bind`` before it
    on the same backend (an unnamed statement is planned at bind). Transaction control (BEGIN,
    COMMIT, …) and empty statements are not queries and are left out."""
    pending: dict[str, float] = {}
    out: list[float] = []
    for pid, ms, phase, text in _DURATION.findall(log_text):
        value = float(ms)
        if phase in ("parse", "bind"):
            pending[pid] = pending.get(pid, 0.0) + value
            continue
        value += pending.pop(pid, 0.0)
        if not _CONTROL.match(text):
            out.append(value)
    return out


@dataclass
class StatementWindow:
    """Opens and closes the measurement window on the database (admin DSN)."""

    dsn: str

    def open(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
            conn.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
            conn.execute("SELECT pg_reload_conf()")

    def close(self) -> list[dict[str, Any]]:
        """Reset the logging and return pg_stat_statements' top statements of the window."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET log_min_duration_statement")
            conn.execute("SELECT pg_reload_conf()")
            rows = conn.execute(TOP_STATEMENTS).fetchall()
        return [{"query": r[0], "calls": int(r[1]), "mean_ms": round(float(r[2]), 3),
                 "max_ms": round(float(r[3]), 3), "stddev_ms": round(float(r[4]), 3),
                 "total_ms": round(float(r[5]), 1)} for r in rows]
