"""Fills every table of an empty SQLite schema with generated rows that satisfy its constraints.

Generic on purpose: the only input is the schema the application's own ``sqlite_init`` created,
read from ``sqlite_master`` and the PRAGMAs, so it fills applications the harness has never seen.
Values are stored the way SQLAlchemy stores them on SQLite (ISO text for dates and timestamps,
0/1 for booleans, decimals at their scale) and include what migrations tend to get wrong:
unicode, quotes, markup, newlines, trailing blanks, NULLs, cents, integers beyond 32 bits.
Deterministic for a given seed, so a failing run can be reproduced exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from releasegate.measure import table_digest as td

DEFAULT_ROWS = 25
Value = int | float | Decimal | str | bytes | dt.date | dt.datetime | dt.time | None

_NULL_EVERY = 9  # every 9th row leaves nullable columns NULL, so NULLs migrate too
_DECORATIONS = (
    "", "张三 李四", "O'Brien \"quoted\"", "<script>alert('x')</script>", "Zoë 😀 ünïcödé",
    "line one\nline two\r\n\ttabbed", "back\\slash 100% _under_ ;--", "  padded  ",
)
_IDENT = r'(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)'
_NUM = r"[+-]?\d+(?:\.\d+)?"
_FLAGS = re.IGNORECASE | re.DOTALL
_SIZE_RE = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")
_CHECK_RE = re.compile(r"\bCHECK\s*\(", re.IGNORECASE)
_AND_RE = re.compile(r"\s+AND\s+", re.IGNORECASE)
_LITERAL_RE = re.compile(r"'((?:[^']|'')*)'|(" + _NUM + ")")
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


class FillError(RuntimeError):
    """The schema could not be filled; the message names the table and SQLite's reason."""


@dataclass(frozen=True)
class Column:
    name: str
    declared: str
    notnull: bool
    pk: int
    """Position in the primary key (1-based); 0 when not part of it."""
    position: int

    @property
    def kind(self) -> str:
        return td.declared_kind(self.declared)[0]

    def size(self) -> tuple[int | None, int | None]:
        """(precision or length, scale) from ``NUMERIC(p, s)`` / ``VARCHAR(n)``."""
        match = _SIZE_RE.search(self.declared)
        if not match:
            return None, None
        return int(match.group(1)), int(match.group(2)) if match.group(2) else None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


@dataclass(frozen=True)
class Bound:
    """A numeric range a CHECK constraint demands (``x >= 0``, ``x BETWEEN 1 AND 31``)."""

    low: Decimal | None = None
    low_open: bool = False
    high: Decimal | None = None
    high_open: bool = False


@dataclass
class Table:
    name: str
    columns: list[Column]
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    unique: list[tuple[str, ...]] = field(default_factory=list)
    choices: dict[str, tuple[Value, ...]] = field(default_factory=dict)
    bounds: dict[str, Bound] = field(default_factory=dict)
    orderings: list[tuple[str, str, str]] = field(default_factory=list)
    """``(left, op, right)`` column comparisons such as ``end_date >= start_date``."""

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in sorted(self.columns, key=lambda c: c.pk) if c.pk)

    @property
    def unique_columns(self) -> set[str]:
        return {name for names in [*self.unique, self.key] for name in names}


# -- reading the schema ---------------------------------------------------------------------

def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unquote(ident: str) -> str:
    if ident[:1] in ('"', "`", "["):
        return ident[1:-1].replace('""', '"')
    return ident


def _closing_paren(text: str, start: int) -> int:
    """Index of the parenthesis closing ``text[start]``, skipping quoted text; -1 if none."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote  # a doubled quote re-enters at once: same text
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and _closing_paren(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _check_bodies(ddl: str) -> Iterator[str]:
    for match in _CHECK_RE.finditer(ddl):
        end = _closing_paren(ddl, match.end() - 1)
        if end > 0:
            yield ddl[match.end():end]


def _conjuncts(expr: str) -> list[str]:
    """Top-level ``AND`` parts, keeping ``BETWEEN a AND b`` whole."""
    parts: list[str] = []
    depth, start, i, quote = 0, 0, 0, ""
    while i < len(expr):
        ch = expr[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif depth == 0 and (m := _AND_RE.match(expr, i)):
            parts.append(expr[start:i])
            start = i = m.end()
            continue
        i += 1
    parts.append(expr[start:])
    merged: list[str] = []
    for part in parts:
        if merged and re.search(r"\bBETWEEN\s+" + _NUM + r"\s*$", merged[-1], _FLAGS):
            merged[-1] = f"{merged[-1]} AND {part}"
        else:
            merged.append(part)
    return merged


def _literals(text: str) -> tuple[Value, ...]:
    values: list[Value] = []
    for string, number in _LITERAL_RE.findall(text):
        if number:
            values.append(int(number) if number.lstrip("+-").isdigit() else Decimal(number))
        else:
            values.append(string.replace("''", "'"))
    return tuple(values)


def _narrow(old: Bound | None, op: str, limit: Decimal) -> Bound:
    old = old or Bound()
    if op in (">", ">="):
        if old.low is None or limit >= old.low:
            return Bound(limit, op == ">", old.high, old.high_open)
        return old
    if old.high is None or limit <= old.high:
        return Bound(old.low, old.low_open, limit, op == "<")
    return old


def _read_check(table: Table, expr: str) -> None:
    """Record the constraint forms the generator can satisfy; others are left to retries."""
    names = {c.name.lower(): c.name for c in table.columns}

    def column(ident: str) -> str | None:
        return names.get(_unquote(ident).lower())

    expr = _strip_parens(expr)
    # "x IS NULL OR <rule>": a non-NULL x must obey the rule.
    if m := re.fullmatch(rf"{_IDENT}\s+IS\s+NULL\s+OR\s+(.*)", expr, _FLAGS):
        expr = _strip_parens(m.group(1))
    for part in map(_strip_parens, _conjuncts(expr)):
        if (m := re.fullmatch(rf"({_IDENT})\s+IN\s*\((.*)\)", part, _FLAGS)) and (
                col := column(m.group(1))) and (values := _literals(m.group(2))):
            table.choices[col] = values
        elif (m := re.fullmatch(rf"({_IDENT})\s+BETWEEN\s+({_NUM})\s+AND\s+({_NUM})", part,
                                _FLAGS)) and (col := column(m.group(1))):
            table.bounds[col] = _narrow(_narrow(table.bounds.get(col), ">=", Decimal(m.group(2))),
                                        "<=", Decimal(m.group(3)))
        elif (m := re.fullmatch(rf"({_IDENT})\s*(<=|>=|<|>)\s*({_NUM})", part, _FLAGS)) and (
                col := column(m.group(1))):
            table.bounds[col] = _narrow(table.bounds.get(col), m.group(2), Decimal(m.group(3)))
        elif (m := re.fullmatch(rf"({_NUM})\s*(<=|>=|<|>)\s*({_IDENT})", part, _FLAGS)) and (
                col := column(m.group(3))):
            table.bounds[col] = _narrow(table.bounds.get(col), _FLIP[m.group(2)],
                                        Decimal(m.group(1)))
        elif (m := re.fullmatch(rf"({_IDENT})\s*(<=|>=|<|>)\s*({_IDENT})", part, _FLAGS)) and (
                (left := column(m.group(1))) and (right := column(m.group(3)))):
            table.orderings.append((left, m.group(2), right))


def _read_table(conn: sqlite3.Connection, name: str, ddl: str) -> Table:
    q = _quote(name)
    columns = [Column(str(r[1]), str(r[2] or ""), bool(r[3]), int(r[5]), int(r[0]))
               for r in conn.execute(f"PRAGMA table_info({q})")]
    table = Table(name, columns)
    groups: dict[int, list[tuple[str, str, str | None]]] = {}
    for r in conn.execute(f"PRAGMA foreign_key_list({q})"):
        groups.setdefault(int(r[0]), []).append((str(r[2]), str(r[3]), r[4]))
    for parts in groups.values():
        table.foreign_keys.append(ForeignKey(
            tuple(p[1] for p in parts), parts[0][0],
            tuple(p[2] for p in parts if p[2] is not None)))
    for r in conn.execute(f"PRAGMA index_list({q})"):
        if int(r[2]):
            info = conn.execute(f"PRAGMA index_info({_quote(str(r[1]))})").fetchall()
            table.unique.append(tuple(str(i[2]) for i in info if i[2] is not None))
    for body in _check_bodies(ddl):
        _read_check(table, body)
    return table


def read_schema(path: str | Path) -> dict[str, Table]:
    """Every ordinary table of the file (virtual tables and their shadow tables left out)."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT name, coalesce(sql, '') FROM sqlite_master "
            "WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        ).fetchall()
        virtual = [str(n) for n, ddl in rows if str(ddl).upper().startswith("CREATE VIRTUAL")]
        tables = {
            str(n): _read_table(conn, str(n), str(ddl)) for n, ddl in rows
            if not any(str(n) == v or str(n).startswith(f"{v}_") for v in virtual)
        }
    for table in tables.values():
        resolved = []
        for fk in table.foreign_keys:
            parent = tables.get(fk.parent)
            if parent is None:
                continue  # a dangling reference: fill the columns like any other
            targets = fk.parent_columns or parent.key
            if len(targets) == len(fk.columns):
                resolved.append(ForeignKey(fk.columns, fk.parent, targets))
        table.foreign_keys = resolved
    return tables


def fill_order(tables: dict[str, Table]) -> list[str]:
    """Parents before children; a cycle is broken at its alphabetically first table."""
    parents = {n: {fk.parent for fk in t.foreign_keys} - {n} for n, t in tables.items()}
    order: list[str] = []
    while len(order) < len(tables):
        ready = sorted(n for n in tables if n not in order and parents[n] <= set(order))
        order.append(ready[0] if ready else min(n for n in tables if n not in order))
    return order


# -- generating values ----------------------------------------------------------------------

def _fit(value: Decimal, bound: Bound | None, step: Decimal, i: int) -> Decimal:
    if bound is None:
        return value
    low = None if bound.low is None else bound.low + (step if bound.low_open else 0)
    high = None if bound.high is None else bound.high - (step if bound.high_open else 0)
    if low is not None and high is not None:
        if low <= value <= high:
            return value
        span = int((high - low) / step) + 1
        return low + step * (i % max(span, 1))
    if low is not None and value < low:
        return low + abs(value)
    if high is not None and value > high:
        return high - abs(value)
    return value


def _shift(value: Value, direction: int) -> Value:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value + direction
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return value + direction * Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    if isinstance(value, float):
        return value + direction * 0.25
    if isinstance(value, dt.datetime):
        return value + direction * dt.timedelta(seconds=1)
    if isinstance(value, dt.date):
        return value + direction * dt.timedelta(days=1)
    return value


def _comparable(a: Value, b: Value) -> bool:
    numbers = (int, float, Decimal)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return True
    return type(a) is type(b) and isinstance(a, (dt.date, dt.time))


def _order_row(row: dict[str, Value], orderings: list[tuple[str, str, str]]) -> None:
    for left, op, right in orderings:
        a, b = row.get(left), row.get(right)
        if a is None or b is None or not _comparable(a, b):
            continue
        holds = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]  # type: ignore[operator]
        if not holds:
            row[left] = b if "=" in op else _shift(b, 1 if op == ">" else -1)


class _Generator:
    def __init__(self, tables: dict[str, Table], seed: int) -> None:
        self.tables = tables
        self.seed = seed
        referenced = {(fk.parent, c) for t in tables.values() for fk in t.foreign_keys
                      for c in fk.parent_columns}
        # Never NULL or regenerate a value another row copies or relies on.
        self.protected = {
            n: set(t.key) | {c for fk in t.foreign_keys for c in fk.columns}
            | {c for p, c in referenced if p == n}
            for n, t in tables.items()
        }

    def row(self, table: Table, i: int, base: int, variant: int) -> dict[str, Value]:
        fk_columns = {c for fk in table.foreign_keys for c in fk.columns}
        row = {c.name: None if c.name in fk_columns else self.value(table, c, i, base, variant)
               for c in table.columns}
        _order_row(row, table.orderings)
        return row

    def value(self, table: Table, col: Column, i: int, base: int, variant: int) -> Value:
        if (variant == 0 and not col.notnull and i % _NULL_EVERY == _NULL_EVERY - 1
                and col.name not in self.protected[table.name]):
            return None
        if col.name in table.choices:
            options = table.choices[col.name]
            return options[i % len(options)]
        unique = col.name in table.unique_columns
        bound = table.bounds.get(col.name)
        kind = col.kind
        if kind == td.BOOL:
            return i % 2
        if kind == td.INT:
            # Unrelated columns get different numbers, so values landing in the wrong column show.
            number = base if unique else base * (col.position + 2) + col.position
            if "BIG" in col.declared.upper() and i % 5 == 4 and not col.pk:
                number += 2**33
            return int(_fit(Decimal(number), bound, Decimal(1), i))
        if kind == td.DECIMAL:
            return self._decimal(col, i, base, bound)
        if kind == td.FLOAT:
            quarters = Decimal(base * 5 + (i % 2) * 2 + col.position * 1000) / 4
            return float(_fit(quarters, bound, Decimal("0.25"), i))
        if kind == td.DATE:
            if i % 6 == 5 and not unique:
                return dt.date(2024, 2, 29)
            return dt.date(2020, 1, 1) + dt.timedelta(days=base * 37 + col.position)
        if kind == td.DATETIME:
            moment = dt.datetime(2021, 3, 14, 1, 59, 26) + dt.timedelta(
                days=base * 11, seconds=base * 3607 + col.position * 61,
                microseconds=(base * 123457) % 1_000_000)
            return moment.replace(microsecond=0) if i % 6 == 5 else moment
        if kind == td.TIME:
            seconds = (base * 3607 + col.position * 11) % 86400
            return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60,
                           (base * 1009) % 1_000_000)
        if kind == td.BYTES:
            return bytes((base * 31 + k) % 256 for k in range(12)) + base.to_bytes(8, "big")
        if kind == td.JSON:
            if i % 3 == 0 and not unique:
                return "{}"
            return json.dumps({"n": base, "name": "张三", "tags": ["a", "<b>"]},
                              ensure_ascii=False)
        return self._text(col, i, base, variant)

    def _decimal(self, col: Column, i: int, base: int, bound: Bound | None) -> Decimal:
        precision, scale = col.size()
        scale = scale if scale is not None else (0 if precision else 2)
        int_digits = max(precision - scale, 0) if precision else 9
        # SQLite keeps 15 significant digits of a REAL: stay well inside them.
        figures = min(scale, 4)
        whole = (base * 100 + (base * 37 + col.position * 13) % 100) % 10 ** min(int_digits, 9)
        cents = 0 if i % 8 == 3 else (base * 7919 + col.position * 101) % 10**figures
        step = Decimal(1).scaleb(-scale)
        value = Decimal(whole) + Decimal(cents).scaleb(-figures)
        return _fit(value, bound, step, i).quantize(step)

    def _text(self, col: Column, i: int, base: int, variant: int) -> str:
        length, _ = col.size()
        if col.kind == td.UUID or (length == 32 and col.declared.upper().startswith("CHAR")):
            # SQLAlchemy keeps a Uuid as 32 hex digits in CHAR(32); any text fits there too.
            value = uuid.UUID(int=(self.seed << 64 | base * 2654435761) % 2**128)
            return value.hex if col.kind != td.UUID else str(value)
        decoration = _DECORATIONS[i % len(_DECORATIONS)] if variant < 2 else ""
        text = f"{base} {col.name}{' ' + decoration if decoration else ''}"
        if length is not None and len(text) > length:
            text = text[:length] if length >= len(str(base)) else str(base)[-length:]
        return text


def _stored(value: Value) -> object:
    """The SQLite representation SQLAlchemy would write for this Python value."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S.%f")
    return value


# -- filling --------------------------------------------------------------------------------

def _offset(conn: sqlite3.Connection, table: Table) -> int:
    """Rows already present: numbering continues after them instead of colliding."""
    q = _quote(table.name)
    count = int(conn.execute(f"SELECT count(*) FROM {q}").fetchone()[0])  # noqa: S608
    key = [c for c in table.columns if c.pk]
    if count and len(key) == 1 and key[0].kind == td.INT:
        top = conn.execute(f"SELECT max({_quote(key[0].name)}) FROM {q}").fetchone()[0]  # noqa: S608
        return max(count, int(top or 0))
    return count


def _assign_parents(tables: dict[str, Table], rows: dict[str, list[dict[str, Value]]],
                    order: list[str], seed: int) -> None:
    pick = random.Random(seed)  # noqa: S311 - test data, not secrets
    for name in order:
        table = tables[name]
        for i, row in enumerate(rows[name]):
            for fk in table.foreign_keys:
                parents = rows[fk.parent]
                distinct = any(set(fk.columns) & set(u) for u in [*table.unique, table.key])
                nullable = all(not c.notnull for c in table.columns if c.name in fk.columns)
                if fk.parent == name:
                    # A self-reference points at an earlier row; the first row has none.
                    if i == 0 and nullable:
                        continue
                    j = 0 if i == 0 else (i - 1 if distinct else pick.randrange(i))
                elif nullable and not distinct and i % _NULL_EVERY == _NULL_EVERY - 1:
                    continue
                else:
                    j = i % len(parents) if distinct else pick.randrange(len(parents))
                for column, target in zip(fk.columns, fk.parent_columns, strict=True):
                    row[column] = parents[j][target]


def fill_sqlite(path: str | Path, rows_per_table: int = DEFAULT_ROWS, *,
                seed: int = 0) -> dict[str, int]:
    """Insert ``rows_per_table`` rows into every table; returns each table's row count."""
    if rows_per_table < 1:
        raise ValueError("rows_per_table must be at least 1")
    tables = read_schema(path)
    order = fill_order(tables)
    generator = _Generator(tables, seed)
    with closing(sqlite3.connect(path)) as conn:
        # Enforcement off while inserting, so reference cycles can be filled; the whole file is
        # checked with foreign_key_check before it is committed.
        conn.execute("PRAGMA foreign_keys = OFF")
        offsets = {n: _offset(conn, tables[n]) for n in order}
        rows = {n: [generator.row(tables[n], i, offsets[n] + i + 1, 0)
                    for i in range(rows_per_table)] for n in order}
        _assign_parents(tables, rows, order, seed)
        for name in order:
            _insert(conn, tables[name], rows[name], generator, offsets[name])
        dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
        if dangling:
            raise FillError(f"generated rows break foreign keys: {dangling[:5]}")
        conn.commit()
        # A rollback journal needs no -wal/-shm files, so a reader without write access to
        # the directory can still open the file.
        conn.execute("PRAGMA journal_mode = DELETE")
        return {n: int(conn.execute(f"SELECT count(*) FROM {_quote(n)}").fetchone()[0])  # noqa: S608
                for n in sorted(tables)}


def _insert(conn: sqlite3.Connection, table: Table, rows: list[dict[str, Value]],
            generator: _Generator, offset: int) -> None:
    names = [c.name for c in table.columns]
    statement = (f"INSERT INTO {_quote(table.name)} ({', '.join(map(_quote, names))}) "  # noqa: S608
                 f"VALUES ({', '.join('?' for _ in names)})")
    protected = generator.protected[table.name]
    for i, row in enumerate(rows):
        for variant in range(1, 4):
            try:
                conn.execute(statement, [_stored(row[n]) for n in names])
                break
            except sqlite3.IntegrityError as exc:
                if variant == 3:
                    raise FillError(f"{table.name}: generated row {i + 1} rejected: {exc}") from exc
                # Retry without NULLs, then with plain ASCII text; keys stay as children use them.
                fresh = generator.row(table, i, offset + i + 1, variant)
                row.update({k: v for k, v in fresh.items() if k not in protected})
