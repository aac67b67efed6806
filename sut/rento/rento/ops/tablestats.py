"""Exact per-table row counts and content fingerprints of a PostgreSQL database.

Used by the backup manifest (taken in the dump's own snapshot) and by restore verification.
Row estimates (``pg_class.reltuples``, ``n_live_tup``) prove nothing: every figure here is an
exact ``count(*)`` or a hash over every row.

The content fingerprint of a table is ``md5`` over the ``md5`` of each row's text form, rows in
primary-key order. Session settings that change the text form of a value (time zone, date
style, float digits, interval and bytea output) are pinned first, so the fingerprint is the same
for the same data on any server version from 13 on.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

SESSION_SETTINGS = (
    "SET TIME ZONE 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 1",
    "SET bytea_output = 'hex'",
)

_LIST_TABLES = """
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY n.nspname, c.relname
"""

_PRIMARY_KEY = """
SELECT a.attname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass AND i.indisprimary
ORDER BY array_position(i.indkey::int2[], a.attnum)
"""


def table_key(schema: str, name: str) -> str:
    """Name used in manifests and reports: bare for ``public``, qualified otherwise."""
    return name if schema == "public" else f"{schema}.{name}"


def pin_session(conn: Any) -> None:
    """Fix the settings that shape a value's text form (call outside a snapshot-sensitive spot:
    ``SET`` does not take a snapshot)."""
    with conn.cursor() as cur:
        for stmt in SESSION_SETTINGS:
            cur.execute(stmt)


def list_tables(conn: Any) -> List[Tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute(_LIST_TABLES)
        return [(str(s), str(t)) for s, t in cur.fetchall()]


def _qualified(schema: str, name: str) -> Any:
    from psycopg import sql

    return sql.Identifier(schema, name)


def exact_count(conn: Any, schema: str, name: str) -> int:
    from psycopg import sql

    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(_qualified(schema, name)))
        row = cur.fetchone()
        return int(row[0]) if row else 0


def content_hash(conn: Any, schema: str, name: str) -> str:
    from psycopg import sql

    with conn.cursor() as cur:
        cur.execute(_PRIMARY_KEY, (schema, name))
        pk = [str(r[0]) for r in cur.fetchall()]
        order: Any
        if pk:
            order = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in pk)
        else:
            order = sql.SQL("t::text")
        cur.execute(
            sql.SQL(
                "SELECT md5(coalesce(string_agg(md5(t::text), '' ORDER BY {}), '')) FROM {} AS t"
            ).format(order, _qualified(schema, name))
        )
        row = cur.fetchone()
        return str(row[0]) if row else ""


def collect(
    conn: Any,
    tables: Optional[Sequence[Tuple[str, str]]] = None,
    *,
    hashes: bool = True,
) -> Dict[str, Dict[str, Any]]:
    """``{table: {"rows": n, "md5": fingerprint}}`` for every user table (or those given)."""
    if tables is None:
        tables = list_tables(conn)
    out: Dict[str, Dict[str, Any]] = {}
    for schema, name in tables:
        entry: Dict[str, Any] = {"schema": schema, "rows": exact_count(conn, schema, name)}
        if hashes:
            entry["md5"] = content_hash(conn, schema, name)
        out[table_key(schema, name)] = entry
    return out


def alembic_revision(conn: Any) -> Optional[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('alembic_version') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return None
        cur.execute("SELECT version_num FROM alembic_version")
        revs = sorted(str(r[0]) for r in cur.fetchall())
    return ",".join(revs) if revs else None


def compare(
    expected: Dict[str, Dict[str, Any]], actual: Dict[str, Dict[str, Any]]
) -> Tuple[bool, Dict[str, Dict[str, Any]]]:
    """Per-table comparison of two ``collect`` results (hashes compared where both have one)."""
    report: Dict[str, Dict[str, Any]] = {}
    ok = True
    for key in sorted(set(expected) | set(actual)):
        exp = expected.get(key)
        act = actual.get(key)
        entry: Dict[str, Any] = {
            "rows_expected": exp.get("rows") if exp else None,
            "rows_actual": act.get("rows") if act else None,
        }
        equal = exp is not None and act is not None and exp.get("rows") == act.get("rows")
        if exp and act and exp.get("md5") and act.get("md5"):
            entry["md5_expected"] = exp["md5"]
            entry["md5_actual"] = act["md5"]
            equal = equal and exp["md5"] == act["md5"]
        if exp is None:
            entry["problem"] = "table not in the backup"
        elif act is None:
            entry["problem"] = "table missing after restore"
        entry["equal"] = bool(equal)
        ok = ok and bool(equal)
        report[key] = entry
    return ok, report
