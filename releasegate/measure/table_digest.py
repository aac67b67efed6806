"""Ordered content hashes of tables, computed identically from SQLite and from PostgreSQL.

The harness reads both databases itself and brings every value to one canonical form before
hashing, so equal digests mean equal data whatever Python types each driver hands back: SQLite
gives ``12.5`` for a NUMERIC(12,2) the PostgreSQL side returns as ``Decimal('12.50')``, text for
timestamps PostgreSQL returns as aware datetimes, 0/1 for booleans. Rows are sorted in Python by
their canonical primary key (never by either server's collation), one compact JSON object per row
is hashed, and nothing is rounded away: a value that only matches after losing digits does not
match.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import re
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from psycopg import sql

Canonical = int | str | None
UTC = dt.timezone.utc

BOOL, INT, DECIMAL, FLOAT = "bool", "int", "decimal", "float"
DATE, DATETIME, TIME = "date", "datetime", "time"
BYTES, JSON, UUID, CHAR, TEXT = "bytes", "json", "uuid", "char", "text"

_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")
_SCALE_RE = re.compile(r"\(\s*\d+\s*,\s*(\d+)\s*\)")
_BOOL_WORDS = {"0": 0, "1": 1, "false": 0, "true": 1, "f": 0, "t": 1}


@dataclass(frozen=True)
class ColumnShape:
    name: str
    kind: str
    scale: int | None = None


@dataclass(frozen=True)
class TableShape:
    """What both sides hash: the columns (sorted by name) and the row order key."""

    name: str
    columns: tuple[ColumnShape, ...]
    key: tuple[str, ...] = ()
    """Primary key columns; empty means rows are ordered by their whole content."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class TableDigest:
    rows: int
    sha256: str
    columns: tuple[str, ...] = ()


# -- kinds ----------------------------------------------------------------------------------

def declared_kind(declared: str) -> tuple[str, int | None]:
    """Kind and scale of an SQLite declared type, read the way SQLAlchemy writes them."""
    t = declared.upper()
    scale_match = _SCALE_RE.search(t)
    scale = int(scale_match.group(1)) if scale_match else None
    if "BOOL" in t:
        return BOOL, None
    if "INT" in t:
        return INT, None
    if "NUMERIC" in t or "DECIMAL" in t:
        return DECIMAL, scale
    if any(word in t for word in ("REAL", "FLOA", "DOUB")):
        return FLOAT, None
    if "DATETIME" in t or "TIMESTAMP" in t:
        return DATETIME, None
    if "DATE" in t:
        return DATE, None
    if "TIME" in t:
        return TIME, None
    if "BLOB" in t or "BINARY" in t or "BYTEA" in t:
        return BYTES, None
    if "JSON" in t:
        return JSON, None
    if "UUID" in t:
        return UUID, None
    return TEXT, None


def postgres_kind(data_type: str) -> str:
    """Kind of an ``information_schema.columns.data_type``."""
    t = data_type.lower()
    if t == "boolean":
        return BOOL
    if t in ("smallint", "integer", "bigint"):
        return INT
    if t == "numeric":
        return DECIMAL
    if t in ("real", "double precision"):
        return FLOAT
    if t.startswith("timestamp"):
        return DATETIME
    if t == "date":
        return DATE
    if t.startswith("time"):
        return TIME
    kinds = {"bytea": BYTES, "json": JSON, "jsonb": JSON, "uuid": UUID, "character": CHAR}
    return kinds.get(t, TEXT)


# -- canonical values -----------------------------------------------------------------------

def _fallback(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that round-trips, as SQLite printed it
    if isinstance(value, (Decimal, int)):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value.strip())
    raise TypeError(f"{type(value).__name__} is not a number")


def _number(value: Any, scale: int | None) -> str:
    # PostgreSQL numeric carries up to 1000 digits; the default 28-digit context would round.
    with decimal.localcontext() as ctx:
        ctx.prec = 1100
        number = _decimal(value)
        if not number.is_finite():
            raise ValueError("not a finite number")
        if scale is not None:
            quantized = number.quantize(Decimal(1).scaleb(-scale))
            # Only a lossless change of representation: 12.345 must not pass for 12.35.
            number = quantized if quantized == number else number.normalize()
        else:
            number = number.normalize()
        if number == 0:
            number = abs(number)
        return format(number, "f")


def _bool(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.strip().lower()]
    raise ValueError("not a boolean")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    if isinstance(value, int):
        return value
    number = _decimal(value)
    if number != number.to_integral_value():
        raise ValueError("not an integer")
    return int(number)


def _offset(text: str | None) -> dt.tzinfo:
    if not text or text == "Z":
        return UTC  # naive SQLite text is taken as UTC
    digits = text[1:].replace(":", "").ljust(4, "0")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
    return dt.timezone(-delta if text[0] == "-" else delta)


def _datetime(value: Any) -> str:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and (m := _DATETIME_RE.match(value.strip())):
        moment = dt.datetime(
            int(m[1]), int(m[2]), int(m[3]), int(m[4] or 0), int(m[5] or 0), int(m[6] or 0),
            int((m[7] or "").ljust(6, "0")), tzinfo=_offset(m[8]),
        )
    else:
        raise ValueError("not a timestamp")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _date(value: Any) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and (m := _DATE_RE.match(value.strip())):
        return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    raise ValueError("not a date")


def _time(value: Any) -> str:
    if isinstance(value, dt.time):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, str) and (m := _TIME_RE.match(value.strip())):
        moment = dt.time(int(m[1]), int(m[2]), int(m[3] or 0), int((m[4] or "").ljust(6, "0")))
        return moment.isoformat(timespec="microseconds")
    raise ValueError("not a time")


def _bytes(value: Any) -> str:
    if isinstance(value, str):
        return value.encode("utf-8").hex()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    raise TypeError("not bytes")


def _json(value: Any) -> str:
    # psycopg hands json/jsonb back parsed, SQLite as text: compare the parsed documents.
    document = json.loads(value) if isinstance(value, (str, bytes)) else value
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _uuid(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return uuid.UUID(bytes=bytes(value)).hex
    return uuid.UUID(str(value)).hex


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8")
    return _fallback(value)


_CONVERTERS: dict[str, Any] = {
    DATETIME: _datetime, DATE: _date, TIME: _time, BYTES: _bytes, JSON: _json, UUID: _uuid,
}


def canonical_value(kind: str, scale: int | None, value: Any) -> Canonical:
    """The canonical form of one value of a column of this kind (None stays None)."""
    if value is None:
        return None
    try:
        if kind == BOOL:
            return _bool(value)
        if kind == INT:
            return _int(value)
        if kind in (DECIMAL, FLOAT):
            return _number(value, scale if kind == DECIMAL else None)
        if kind in _CONVERTERS:
            return str(_CONVERTERS[kind](value))
        if kind == CHAR:
            return _text(value).rstrip(" ")  # char(n) pads with blanks that carry no data
        return _text(value)
    except (ValueError, TypeError, ArithmeticError, UnicodeDecodeError):
        # Unreadable as its kind: keep the raw text, which cannot equal a well-formed value.
        return _fallback(value)


# -- hashing --------------------------------------------------------------------------------

def _order(value: Canonical) -> tuple[int, int | str]:
    if value is None:
        return 0, 0
    return (1, value) if isinstance(value, int) else (2, value)


def canonical_lines(shape: TableShape, rows: Iterable[Sequence[Any]]) -> list[str]:
    """Canonical JSON lines of rows given in ``shape.names`` order, sorted by the key."""
    names = shape.names
    positions = [names.index(k) for k in shape.key]
    keyed: list[tuple[tuple[tuple[int, int | str], ...], str]] = []
    for row in rows:
        values = [canonical_value(c.kind, c.scale, v)
                  for c, v in zip(shape.columns, row, strict=True)]
        line = json.dumps(dict(zip(names, values, strict=True)), ensure_ascii=False,
                          sort_keys=True, separators=(",", ":"))
        keyed.append((tuple(_order(values[p]) for p in positions), line))
    keyed.sort()
    return [line for _, line in keyed]


def digest_lines(shape: TableShape, lines: Sequence[str]) -> TableDigest:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return TableDigest(len(lines), digest.hexdigest(), shape.names)


def digest_rows(shape: TableShape, rows: Iterable[Sequence[Any]]) -> TableDigest:
    return digest_lines(shape, canonical_lines(shape, rows))


def _key_of(line: str, key: Sequence[str]) -> str:
    row = json.loads(line)
    return json.dumps([row.get(k) for k in key], ensure_ascii=False)


def _changed_columns(a: str, b: str) -> str:
    mine, theirs = json.loads(a), json.loads(b)
    return "; ".join(f"{c}: {mine.get(c)!r} vs {theirs.get(c)!r}"
                     for c in sorted(set(mine) | set(theirs)) if mine.get(c) != theirs.get(c))


def describe_difference(left: Sequence[str], right: Sequence[str], *, left_name: str,
                        right_name: str, key: Sequence[str] = (), limit: int = 300) -> str:
    """What differs between two sides' canonical lines: rows whose key both sides have but
    whose values differ (with the columns), then rows only one side has (the first of each)."""
    only_left = sorted(set(left) - set(right))
    only_right = sorted(set(right) - set(left))
    parts = []
    if key:
        left_keys = {line: _key_of(line, key) for line in only_left}
        right_keys = {line: _key_of(line, key) for line in only_right}
        changed = sorted(set(left_keys.values()) & set(right_keys.values()))
        if changed:
            a = next(line for line, k in left_keys.items() if k == changed[0])
            b = next(line for line, k in right_keys.items() if k == changed[0])
            parts.append(f"{len(changed)} row(s) differ ({left_name} vs {right_name}), first "
                         f"key {changed[0]}: {_changed_columns(a, b)}"[:limit])
        only_left = [line for line in only_left if left_keys[line] not in changed]
        only_right = [line for line in only_right if right_keys[line] not in changed]
    if only_left:
        parts.append(f"{len(only_left)} row(s) only in {left_name}, first {only_left[0]}"[:limit])
    if only_right:
        parts.append(
            f"{len(only_right)} row(s) only in {right_name}, first {only_right[0]}"[:limit])
    if not parts and list(left) != list(right):
        parts.append(f"same rows, different multiplicity ({len(left)} vs {len(right)})")
    return "; ".join(parts)


# -- SQLite ---------------------------------------------------------------------------------

def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def open_sqlite_readonly(path: str | Path) -> Iterator[sqlite3.Connection]:
    """Read-only, so measuring can never change the file under test."""
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def sqlite_shapes(path: str | Path, tables: Iterable[str]) -> dict[str, TableShape]:
    """Shapes from the SQLite declared types; tables the file lacks are left out."""
    shapes: dict[str, TableShape] = {}
    with open_sqlite_readonly(path) as conn:
        for table in tables:
            info = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
            if not info:
                continue
            columns = sorted(
                (ColumnShape(str(r[1]), *declared_kind(str(r[2] or ""))) for r in info),
                key=lambda c: c.name,
            )
            key = tuple(str(r[1]) for r in sorted(info, key=lambda r: int(r[5])) if r[5])
            shapes[table] = TableShape(table, tuple(columns), key)
    return shapes


def sqlite_lines(path: str | Path, shape: TableShape) -> list[str]:
    query = f"SELECT {', '.join(map(_quote, shape.names))} FROM {_quote(shape.name)}"  # noqa: S608
    with open_sqlite_readonly(path) as conn:
        return canonical_lines(shape, conn.execute(query))


def digest_sqlite(path: str | Path, tables: Iterable[str],
                  shapes: dict[str, TableShape] | None = None) -> dict[str, TableDigest]:
    tables = list(tables)
    shapes = shapes if shapes is not None else sqlite_shapes(path, tables)
    return {t: digest_lines(shapes[t], sqlite_lines(path, shapes[t]))
            for t in tables if t in shapes}


# -- PostgreSQL -----------------------------------------------------------------------------

_PG_COLUMNS = """
SELECT column_name, data_type, numeric_scale FROM information_schema.columns
 WHERE table_schema = current_schema() AND table_name = %s ORDER BY column_name
"""
_PG_KEY = """
SELECT a.attname FROM pg_index i
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
 WHERE i.indisprimary
   AND i.indrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(%s))
 ORDER BY array_position(i.indkey::int2[], a.attnum)
"""


def postgres_shapes(conn: Any, tables: Iterable[str]) -> dict[str, TableShape]:
    """Shapes from the PostgreSQL catalog (current schema); tables it lacks are left out."""
    shapes: dict[str, TableShape] = {}
    for table in tables:
        rows = conn.execute(_PG_COLUMNS, (table,)).fetchall()
        if not rows:
            continue
        columns = []
        for name, data_type, scale in rows:
            kind = postgres_kind(str(data_type))
            exact = int(scale) if scale is not None and kind == DECIMAL else None
            columns.append(ColumnShape(str(name), kind, exact))
        key = tuple(str(r[0]) for r in conn.execute(_PG_KEY, (table,)).fetchall())
        shapes[table] = TableShape(table, tuple(columns), key)
    return shapes


def _select(column: ColumnShape) -> sql.Composable:
    # PostgreSQL's own text for json (psycopg would parse it, SQLite hands text) and for the types
    # psycopg has no Python type for (enums, citext, …), so both sides parse the same thing.
    if column.kind in (JSON, TEXT):
        return sql.SQL("{}::text").format(sql.Identifier(column.name))
    return sql.Identifier(column.name)


def postgres_lines(conn: Any, shape: TableShape) -> list[str]:
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(_select(c) for c in shape.columns), sql.Identifier(shape.name))
    return canonical_lines(shape, conn.execute(query).fetchall())


def digest_postgres(conn: Any, tables: Iterable[str],
                    shapes: dict[str, TableShape] | None = None) -> dict[str, TableDigest]:
    tables = list(tables)
    shapes = shapes if shapes is not None else postgres_shapes(conn, tables)
    return {t: digest_lines(shapes[t], postgres_lines(conn, shapes[t]))
            for t in tables if t in shapes}


# -- both sides -----------------------------------------------------------------------------

def common_shapes(source: dict[str, TableShape], target: dict[str, TableShape],
                  ) -> tuple[dict[str, TableShape], list[str]]:
    """One shape per table for both sides, and every table or column only one side has.

    Kinds and scales come from PostgreSQL, the typed side the data was converted into; the key
    is the source's primary key when the target has all its columns.
    """
    shapes: dict[str, TableShape] = {}
    problems: list[str] = []
    for table, src in source.items():
        dst = target.get(table)
        if dst is None:
            problems.append(f"{table}: table missing in PostgreSQL")
            continue
        src_names, dst_names = set(src.names), set(dst.names)
        problems += [f"{table}.{n}: column only in SQLite" for n in sorted(src_names - dst_names)]
        problems += [f"{table}.{n}: column only in PostgreSQL"
                     for n in sorted(dst_names - src_names)]
        columns = tuple(c for c in dst.columns if c.name in src_names)
        common = {c.name for c in columns}
        key = next((k for k in (src.key, dst.key) if k and set(k) <= common), ())
        shapes[table] = TableShape(table, tuple(sorted(columns, key=lambda c: c.name)), key)
    return shapes, problems
