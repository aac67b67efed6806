"""Two PostgreSQL databases of the same major version compared table by table: exact row counts
and ordered content hashes, computed by each server over its own rows (every row's text, in
primary-key order, under pinned session settings so that both print values alike). Row
estimates prove nothing; this does. Where a table differs, the harness reads both sides through
``table_digest`` and names the first rows that differ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from releasegate.measure import table_digest as td

_TABLES = """
SELECT table_name FROM information_schema.tables
 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1
"""
# The text of a value depends on these; both sides must print alike.
_PINNED = ("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'",
           "SET IntervalStyle = 'postgres'", "SET extra_float_digits = 3",
           "SET bytea_output = 'hex'")


@dataclass(frozen=True)
class LeaveOut:
    """Rows whose ``column`` starts with ``prefix`` are left out on both sides (canaries
    written after the snapshot, say)."""

    column: str
    prefix: str

    def matches(self, row: Mapping[str, Any]) -> bool:
        return str(row.get(self.column) or "").startswith(self.prefix)


@dataclass(frozen=True)
class TableComparison:
    table: str
    rows_source: int | None
    rows_target: int | None
    hash_source: str = ""
    hash_target: str = ""
    difference: str = ""

    @property
    def equal(self) -> bool:
        return (self.rows_source is not None and self.rows_source == self.rows_target
                and self.hash_source == self.hash_target and not self.difference)

    def evidence(self) -> dict[str, Any]:
        return {"rows_source": self.rows_source, "rows_restored": self.rows_target,
                "md5_source": self.hash_source, "md5_restored": self.hash_target,
                "equal": self.equal, "difference": self.difference}


def pin(conn: Any) -> None:
    for statement in _PINNED:
        conn.execute(statement)


def user_tables(conn: Any) -> list[str]:
    return [str(row[0]) for row in conn.execute(_TABLES).fetchall()]


def row_counts(conn: Any) -> dict[str, int]:
    counts = {}
    for table in user_tables(conn):
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(table))).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def _key(conn: Any, table: str) -> list[str]:
    shape = td.postgres_shapes(conn, [table]).get(table)
    return list(shape.key) if shape else []


def server_digest(conn: Any, table: str, key: list[str], leave_out: LeaveOut | None = None,
                  ) -> tuple[int, str]:
    """Row count and md5 over every row's text, in key order (whole-row order without a key)."""
    order = (sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(k)) for k in key)
             if key else sql.SQL("t::text"))
    where: sql.Composable = sql.SQL("")
    params: tuple[Any, ...] = ()
    if leave_out is not None:
        where = sql.SQL(" WHERE coalesce(left(t.{}::text, %s) <> %s, true)").format(
            sql.Identifier(leave_out.column))
        params = (len(leave_out.prefix), leave_out.prefix)
    query = sql.SQL("SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY {})), "
                    "'') FROM {} AS t{}").format(order, sql.Identifier(table), where)
    row = conn.execute(query, params).fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "")


def _difference(source: Any, target: Any, table: str, leave_out: LeaveOut | None) -> str:
    shapes = [td.postgres_shapes(conn, [table]).get(table) for conn in (source, target)]
    if shapes[0] is None or shapes[1] is None or shapes[0].columns != shapes[1].columns:
        return "the columns differ"
    shape = shapes[0]
    sides = []
    for conn in (source, target):
        lines = td.postgres_lines(conn, shape)
        if leave_out is not None:
            lines = [line for line in lines if not leave_out.matches(json.loads(line))]
        sides.append(lines)
    return td.describe_difference(sides[0], sides[1], left_name="source",
                                  right_name="restored", key=shape.key) or "row text differs"


def compare_table(source: Any, target: Any, table: str,
                  leave_out: LeaveOut | None = None) -> TableComparison:
    tables = [set(user_tables(conn)) for conn in (source, target)]
    if table not in tables[0] or table not in tables[1]:
        side = "restored database" if table not in tables[1] else "source"
        return TableComparison(table, None, None, difference=f"table missing in the {side}")
    key = _key(source, table)
    rows_a, hash_a = server_digest(source, table, key, leave_out)
    rows_b, hash_b = server_digest(target, table, key, leave_out)
    difference = "" if (rows_a, hash_a) == (rows_b, hash_b) else _difference(
        source, target, table, leave_out)
    return TableComparison(table, rows_a, rows_b, hash_a, hash_b, difference)


def compare_databases(source: Any, target: Any,
                      leave_out: Mapping[str, LeaveOut] | None = None) -> list[TableComparison]:
    """Every table either side has, compared (both connections are pinned first)."""
    pin(source)
    pin(target)
    tables = sorted(set(user_tables(source)) | set(user_tables(target)))
    return [compare_table(source, target, t, (leave_out or {}).get(t)) for t in tables]
