"""Move the legacy SQLite database into PostgreSQL, completely and verifiably.

``sqlite-init PATH`` creates the legacy schema (the same tables as :mod:`rento.models`) in a
SQLite file. ``migrate-sqlite`` copies every table into PostgreSQL:

* the target schema is brought to Alembic ``head`` first;
* tables are copied parents first, primary keys preserved, each value converted to its column's
  type (:mod:`rento.ops.convert`);
* rows go through ``COPY`` into a temporary staging table, then ``INSERT ... OVERRIDING SYSTEM
  VALUE ... ON CONFLICT (id) DO NOTHING``: a second run adds nothing and fails on nothing;
* a source table that predates the ``account_id`` of tables owned through a parent (rooms,
  contracts, bills, payments) gets it from the parent row, already copied;
* every identity/serial sequence is set past ``max(id)``;
* then, still inside the one transaction, each table's exact row count and an ordered content
  hash (canonical values, rows by primary key) are compared with the source. Anything unequal
  rolls the whole migration back and the command exits non-zero.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from rento.ops import convert, tablestats
from rento.ops.pgconn import DatabaseUrlError, PgTarget, connect

STAGE_PREFIX = "_rento_stage_"


class MigrationError(Exception):
    pass


class _Mismatch(Exception):
    pass


def _models() -> Any:
    from rento import models

    return models


def sqlite_init(path: str) -> Dict[str, Any]:
    """Create (or complete) the legacy schema in a SQLite file."""
    from sqlalchemy import create_engine, inspect

    models = _models()
    file = Path(path).expanduser().absolute()
    file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{file}")
    try:
        models.Base.metadata.create_all(engine)
        tables = sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return {"status": "ok", "path": str(file), "tables": tables}


def _ordered_tables() -> List[Any]:
    models = _models()
    metadata = models.Base.metadata
    names = list(getattr(models, "TABLES_IN_ORDER", [])) or [t.name for t in metadata.sorted_tables]
    for table in metadata.sorted_tables:  # any table the list does not name, in FK order
        if table.name not in names:
            names.append(table.name)
    return [metadata.tables[n] for n in names]


def _sqlite_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(src: sqlite3.Connection) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    rows = src.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for (name,) in rows:
        cols = [r[1] for r in src.execute(f"PRAGMA table_info({_sqlite_ident(name)})")]
        out[str(name)] = [str(c) for c in cols]
    return out


def upgrade_schema(database_url: str) -> Optional[str]:
    """Bring the target to Alembic head; returns the revision."""
    from rento.ops import schema

    return schema.upgrade_head(database_url)


def migrate_sqlite(
    source: str,
    database_url: str,
    *,
    batch_size: int = 5000,
    upgrade: bool = True,
) -> Tuple[bool, Dict[str, Any]]:
    t0 = time.monotonic()
    src_path = Path(source).expanduser().absolute()
    if not src_path.is_file():
        raise MigrationError(f"SQLite database not found: {src_path}")
    try:
        target = PgTarget.from_url(database_url)
    except DatabaseUrlError as exc:
        raise MigrationError(str(exc)) from exc
    batch_size = max(1, int(batch_size))

    revision = upgrade_schema(database_url) if upgrade else None

    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
    src.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
    report: Dict[str, Any] = {
        "status": "ok",
        "source": str(src_path),
        "target": target.describe(),
        "alembic_revision": revision,
        "tables": {},
    }
    try:
        src_tables = _sqlite_tables(src)
        tables = _ordered_tables()
        known = {t.name for t in tables}
        ignored = sorted(n for n in src_tables if n not in known)
        if ignored:
            report["ignored_source_tables"] = ignored
        problems: List[str] = []
        for table in tables:
            if table.name in src_tables:
                extra = [c for c in src_tables[table.name] if c not in table.columns]
                if extra:
                    problems.append(
                        f"{table.name}: source columns without a target column: {', '.join(extra)}"
                    )
        if problems:
            raise MigrationError("; ".join(problems) + " (their data would be lost)")

        with connect(target, autocommit=True) as conn:
            tablestats.pin_session(conn)
            conn.autocommit = False
            try:
                with conn.transaction():
                    _lock_targets(conn, tables)
                    all_equal = True
                    for table in tables:
                        entry = _copy_table(
                            conn, src, table, src_tables.get(table.name), batch_size
                        )
                        report["tables"][table.name] = entry
                    _reset_sequences(conn, tables)
                    for table in tables:
                        entry = report["tables"][table.name]
                        rows, digest = _target_hash(conn, table, entry["columns"])
                        entry["rows_target"] = rows
                        entry["hash_target"] = digest
                        entry["equal"] = (
                            rows == entry["rows_source"] and digest == entry["hash_source"]
                        )
                        all_equal = all_equal and entry["equal"]
                    if not all_equal:
                        for table in tables:
                            entry = report["tables"][table.name]
                            if not entry["equal"]:
                                entry["difference"] = _diff_table(
                                    conn, src, table, entry["columns"], batch_size
                                )
                        raise _Mismatch()
            except _Mismatch:
                report["status"] = "mismatch"
                report["rolled_back"] = True
                report["hint"] = (
                    "the target holds rows that differ from the source or are not in it (for "
                    "example the administrator the service creates when it first starts): "
                    "migrate into a fresh database before the service's first start"
                )
    finally:
        src.close()
    for entry in report["tables"].values():
        entry.pop("columns", None)
    report["rows_source"] = sum(e["rows_source"] for e in report["tables"].values())
    report["rows_target"] = sum(e.get("rows_target", 0) for e in report["tables"].values())
    report["seconds"] = round(time.monotonic() - t0, 3)
    return report["status"] == "ok", report


def _lock_targets(conn: Any, tables: List[Any]) -> None:
    from psycopg import sql

    names = sql.SQL(", ").join(sql.Identifier(t.schema or "public", t.name) for t in tables)
    with conn.cursor() as cur:
        # Two migrations at once would otherwise interleave; readers are not blocked.
        cur.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(names))


def _owner_from_parent(table: Any, columns: List[str]) -> Optional[Tuple[str, Any]]:
    """(parent key column, parent table) when the source lacks the table's ``account_id`` but the
    foreign key to the parent includes it: the value then comes from the parent row."""
    if "account_id" in columns or "account_id" not in table.columns:
        return None
    for fk in table.foreign_key_constraints:
        keys = [c.name for c in fk.columns]
        if len(keys) == 2 and "account_id" in keys:
            parent_key = keys[1 - keys.index("account_id")]
            if parent_key in columns:
                return parent_key, fk.referred_table
    return None


def _pk_columns(table: Any) -> List[str]:
    cols = [c.name for c in table.primary_key.columns]
    if not cols:
        raise MigrationError(f"table {table.name} has no primary key")
    return cols


def _copy_table(
    conn: Any,
    src: sqlite3.Connection,
    table: Any,
    src_columns: Optional[List[str]],
    batch_size: int,
) -> Dict[str, Any]:
    from psycopg import sql

    pk = _pk_columns(table)
    if src_columns is None:
        columns = [c.name for c in table.columns]
        hasher = convert.RowHasher([convert.canonical_for(table.c[c].type) for c in columns])
        return {
            "rows_source": 0,
            "inserted": 0,
            "already_present": 0,
            "hash_source": hasher.hexdigest(),
            "source_missing": True,
            "columns": columns,
        }
    columns = [c.name for c in table.columns if c.name in src_columns]
    missing_pk = [c for c in pk if c not in columns]
    if missing_pk:
        raise MigrationError(f"{table.name}: source has no primary key column {missing_pk}")
    converters = [convert.converter_for(table.c[c].type) for c in columns]
    hasher = convert.RowHasher([convert.canonical_for(table.c[c].type) for c in columns])
    pk_index = [columns.index(c) for c in pk]

    qualified = sql.Identifier(table.schema or "public", table.name)
    stage = sql.Identifier(STAGE_PREFIX + table.name)
    col_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    # Identifiers come from the models and the source's own catalogue, never from input data.
    src_select = "SELECT {} FROM {} ORDER BY {}".format(  # noqa: S608  # nosec B608
        ", ".join(_sqlite_ident(c) for c in columns),
        _sqlite_ident(table.name),
        ", ".join(_sqlite_ident(c) for c in pk),
    )
    rows_source = 0
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                stage, col_list, qualified
            )
        )
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, col_list)) as copy:
            src_cur = src.execute(src_select)
            while True:
                batch = src_cur.fetchmany(batch_size)
                if not batch:
                    break
                for raw in batch:
                    row = []
                    for i, (fn, value) in enumerate(zip(converters, raw)):
                        try:
                            row.append(fn(value))
                        except (convert.ConversionError, ValueError, UnicodeError) as exc:
                            key = ", ".join(f"{pk[j]}={raw[k]!r}" for j, k in enumerate(pk_index))
                            raise MigrationError(
                                f"{table.name}.{columns[i]} ({key}): cannot convert a "
                                f"{type(value).__name__} value to "
                                f"{table.c[columns[i]].type}: {exc}"
                            ) from None
                    copy.write_row(row)
                    hasher.add(row)
                    rows_source += 1
        conflict = sql.SQL(", ").join(sql.Identifier(c) for c in pk)
        owner = _owner_from_parent(table, columns)
        if owner is None:
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} ORDER BY {} "
                    "ON CONFLICT ({}) DO NOTHING"
                ).format(qualified, col_list, col_list, stage, conflict, conflict)
            )
        else:
            parent_key, parent = owner
            # A missing parent leaves account_id NULL: the NOT NULL constraint then fails the
            # migration instead of dropping the row.
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} ({}, account_id) OVERRIDING SYSTEM VALUE "
                    "SELECT {}, p.account_id FROM {} AS s LEFT JOIN {} AS p ON p.id = s.{} "
                    "ORDER BY {} ON CONFLICT ({}) DO NOTHING"
                ).format(
                    qualified,
                    col_list,
                    sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in columns),
                    stage,
                    sql.Identifier(parent.schema or "public", parent.name),
                    sql.Identifier(parent_key),
                    sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in pk),
                    conflict,
                )
            )
        inserted = max(0, cur.rowcount)
        cur.execute(sql.SQL("DROP TABLE {}").format(stage))
    return {
        "rows_source": rows_source,
        "inserted": inserted,
        "already_present": rows_source - inserted,
        "hash_source": hasher.hexdigest(),
        "columns": columns,
    }


def _reset_sequences(conn: Any, tables: List[Any]) -> None:
    from psycopg import sql

    with conn.cursor() as cur:
        for table in tables:
            qualified = f'"{table.schema or "public"}"."{table.name}"'
            for column in table.columns:
                cur.execute("SELECT pg_get_serial_sequence(%s, %s)", (qualified, column.name))
                row = cur.fetchone()
                if not row or not row[0]:
                    continue
                cur.execute(
                    sql.SQL(
                        "SELECT setval(%s, COALESCE((SELECT max({}) FROM {}), 0) + 1, false)"
                    ).format(
                        sql.Identifier(column.name),
                        sql.Identifier(table.schema or "public", table.name),
                    ),
                    (row[0],),
                )


def _target_hash(conn: Any, table: Any, columns: List[str]) -> Tuple[int, str]:
    from psycopg import sql

    pk = _pk_columns(table)
    hasher = convert.RowHasher([convert.canonical_for(table.c[c].type) for c in columns])
    query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.Identifier(table.schema or "public", table.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in pk),
    )
    with conn.cursor(name=f"rento_hash_{table.name}") as cur:
        cur.itersize = 5000
        cur.execute(query)
        for row in cur:
            hasher.add(row)
    return hasher.rows, hasher.hexdigest()


def _source_rows(
    src: sqlite3.Connection, table: Any, columns: List[str], batch_size: int
) -> Iterator[Tuple[Any, ...]]:
    pk = _pk_columns(table)
    converters = [convert.converter_for(table.c[c].type) for c in columns]
    query = "SELECT {} FROM {} ORDER BY {}".format(  # noqa: S608  # nosec B608
        ", ".join(_sqlite_ident(c) for c in columns),
        _sqlite_ident(table.name),
        ", ".join(_sqlite_ident(c) for c in pk),
    )
    cur = src.execute(query)
    while True:
        batch = cur.fetchmany(batch_size)
        if not batch:
            return
        for raw in batch:
            yield tuple(fn(v) for fn, v in zip(converters, raw))


def _diff_table(
    conn: Any, src: sqlite3.Connection, table: Any, columns: List[str], batch_size: int
) -> Dict[str, Any]:
    """Merge both sides in primary-key order: rows only in the source, only in the target, and
    rows whose canonical values differ (with a few example keys; never the values)."""
    from psycopg import sql

    pk = _pk_columns(table)
    pk_index = [columns.index(c) for c in pk]
    canon = [convert.canonical_for(table.c[c].type) for c in columns]
    counts = {"missing_in_target": 0, "only_in_target": 0, "different": 0}
    examples: Dict[str, List[Any]] = {k: [] for k in counts}

    def note(kind: str, key: Tuple[Any, ...]) -> None:
        counts[kind] += 1
        if len(examples[kind]) < 5:
            examples[kind].append(key[0] if len(key) == 1 else list(key))

    def canonical(row: Tuple[Any, ...]) -> List[Any]:
        return [c(v) for c, v in zip(canon, row)]

    source: Iterator[Tuple[Any, ...]] = (
        _source_rows(src, table, columns, batch_size) if columns else iter(())
    )
    query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.Identifier(table.schema or "public", table.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in pk),
    )
    with conn.cursor(name=f"rento_diff_{table.name}") as cur:
        cur.itersize = 5000
        cur.execute(query)
        a = next(source, None)
        b = cur.fetchone()
        while a is not None or b is not None:
            ka = tuple(a[i] for i in pk_index) if a is not None else None
            kb = tuple(b[i] for i in pk_index) if b is not None else None
            if kb is None or (ka is not None and ka < kb):
                note("missing_in_target", ka)  # type: ignore[arg-type]
                a = next(source, None)
            elif ka is None or kb < ka:
                note("only_in_target", kb)
                b = cur.fetchone()
            else:
                if canonical(a) != canonical(b):  # type: ignore[arg-type]
                    note("different", ka)
                a = next(source, None)
                b = cur.fetchone()
    return {**counts, "example_keys": {k: v for k, v in examples.items() if v}}
