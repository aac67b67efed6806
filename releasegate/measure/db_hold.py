"""Holding work inside the database on purpose: a table lock taken over the harness's own
connection keeps every statement that needs the table waiting — a dump at its start, a write in
the middle of its request — until the harness lets go. Nothing has to be slow by luck."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from releasegate.measure.db_compare import user_tables


@contextmanager
def table_locked(dsn: str, table: str | None = None, *,
                 mode: str = "ACCESS EXCLUSIVE") -> Iterator[str]:
    """Lock ``table`` (the first user table when None) until the block ends; yields its name.
    ``EXCLUSIVE`` lets reads through and holds writes; ``ACCESS EXCLUSIVE`` holds everything."""
    if mode not in ("EXCLUSIVE", "ACCESS EXCLUSIVE"):
        raise ValueError(f"unsupported lock mode {mode!r}")
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        name = table or next(iter(user_tables(conn)), None)
        if name is None:
            raise RuntimeError("the database has no table to hold work on")
        conn.execute(sql.SQL("LOCK TABLE {} IN " + mode + " MODE").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            conn.rollback()
