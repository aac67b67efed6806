"""Ordered content hashes: equal data gives equal digests whichever database it came from, and
the smallest real difference (a cent, a row) changes them."""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import random
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from releasegate.measure import table_digest as td
from releasegate.measure.sqlite_fill import fill_sqlite

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
LEDGER = """
CREATE TABLE ledger (
    id INTEGER NOT NULL PRIMARY KEY, amount NUMERIC(12, 2) NOT NULL, paid BOOLEAN,
    due DATE, at DATETIME, wake TIME, raw BLOB, doc JSON, name VARCHAR(40), ratio FLOAT
);
"""
# As SQLAlchemy leaves them on SQLite: REAL for decimals (12.5, not 12.50), 0/1, ISO text.
SQLITE_ROWS: list[tuple[Any, ...]] = [
    (1, 12.5, 1, "2024-02-29", "2024-01-01 10:00:00.000001", "08:30:00.000000", b"\x00\xff",
     '{"b": 1, "a": [1, 2]}', "张三 <script>'x'</script>", 0.25),
    (2, 1000, 0, None, "2026-11-21 23:59:59.999999", None, None, "{}", "  padded  ", None),
    (3, 0.01, None, "1999-12-31", None, "00:00:00.000000", b"", None, "line\nbreak", 1e-7),
]
# The same data as psycopg returns it from PostgreSQL (connection time zone Asia/Shanghai).
TYPED_ROWS: list[tuple[Any, ...]] = [
    (3, Decimal("0.01"), None, dt.date(1999, 12, 31), None, dt.time(0, 0), b"", None,
     "line\nbreak", 1e-7),
    (1, Decimal("12.50"), True, dt.date(2024, 2, 29),
     dt.datetime(2024, 1, 1, 18, 0, 0, 1, tzinfo=SHANGHAI), dt.time(8, 30), b"\x00\xff",
     {"a": [1, 2], "b": 1}, "张三 <script>'x'</script>", 0.25),
    (2, Decimal("1000.00"), False, None,
     dt.datetime(2026, 11, 22, 7, 59, 59, 999999, tzinfo=SHANGHAI), None, None, {},
     "  padded  ", None),
]
NAMES = ("id", "amount", "paid", "due", "at", "wake", "raw", "doc", "name", "ratio")
SELECT_LEDGER = "SELECT id, amount, paid, due, at, wake, raw, doc, name, ratio FROM ledger"
INSERT_LEDGER = ("INSERT INTO ledger (id, amount, paid, due, at, wake, raw, doc, name, ratio) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _ledger(path: Path, rows: list[tuple[Any, ...]] = SQLITE_ROWS) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(LEDGER)
        conn.executemany(INSERT_LEDGER, rows)
        conn.commit()
    return path


def _typed_digest(shape: td.TableShape, rows: list[tuple[Any, ...]]) -> td.TableDigest:
    """Digest of rows given in NAMES order, reordered to the shape's (sorted) columns."""
    index = [NAMES.index(n) for n in shape.names]
    return td.digest_rows(shape, [tuple(r[i] for i in index) for r in rows])


def _shape(path: Path) -> td.TableShape:
    return td.sqlite_shapes(path, ["ledger"])["ledger"]


def test_sqlite_digest_equals_the_canonical_in_memory_rows(tmp_path: Path) -> None:
    path = _ledger(tmp_path / "l.db")
    shape = _shape(path)
    assert shape.key == ("id",)
    assert shape.names == tuple(sorted(NAMES))
    from_sqlite = td.digest_sqlite(path, ["ledger"])["ledger"]
    assert from_sqlite == _typed_digest(shape, TYPED_ROWS)
    assert from_sqlite.rows == 3


def test_one_cent_changes_the_digest(tmp_path: Path) -> None:
    shape = _shape(_ledger(tmp_path / "l.db"))
    reference = _typed_digest(shape, TYPED_ROWS)
    cent = [(3, Decimal("0.02"), *TYPED_ROWS[0][2:]), *TYPED_ROWS[1:]]
    assert _typed_digest(shape, cent).sha256 != reference.sha256
    # Digits beyond the column's scale are never rounded away to make values match.
    rounded = [(3, Decimal("0.014"), *TYPED_ROWS[0][2:]), *TYPED_ROWS[1:]]
    assert _typed_digest(shape, rounded).sha256 != reference.sha256
    text = td.describe_difference(td.canonical_lines(shape, _reorder(shape, TYPED_ROWS)),
                                  td.canonical_lines(shape, _reorder(shape, cent)),
                                  left_name="SQLite", right_name="PostgreSQL", key=shape.key)
    assert text == ("1 row(s) differ (SQLite vs PostgreSQL), first key [3]: "
                    "amount: '0.01' vs '0.02'")


def test_a_missing_row_changes_count_and_digest_and_is_described(tmp_path: Path) -> None:
    path = _ledger(tmp_path / "l.db")
    shape = _shape(path)
    short = _typed_digest(shape, TYPED_ROWS[1:])
    full = td.digest_sqlite(path, ["ledger"])["ledger"]
    assert (short.rows, full.rows) == (2, 3)
    assert short.sha256 != full.sha256
    text = td.describe_difference(td.sqlite_lines(path, shape),
                                  td.canonical_lines(shape, _reorder(shape, TYPED_ROWS[1:])),
                                  left_name="SQLite", right_name="PostgreSQL")
    assert text.startswith("1 row(s) only in SQLite") and '"id":3' in text


def _reorder(shape: td.TableShape, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    index = [NAMES.index(n) for n in shape.names]
    return [tuple(r[i] for i in index) for r in rows]


def test_row_order_and_time_zone_of_equal_data_do_not_matter(tmp_path: Path) -> None:
    shape = _shape(_ledger(tmp_path / "l.db"))
    shuffled = list(TYPED_ROWS)
    random.Random(1).shuffle(shuffled)
    utc = [tuple(v.astimezone(dt.timezone.utc) if isinstance(v, dt.datetime) else v for v in r)
           for r in shuffled]
    assert _typed_digest(shape, utc) == _typed_digest(shape, TYPED_ROWS)


@pytest.mark.parametrize(("kind", "scale", "left", "right"), [
    (td.DECIMAL, 2, 12.5, Decimal("12.50")),
    (td.DECIMAL, 2, "7", Decimal("7.00")),
    (td.DECIMAL, None, Decimal("1.2300"), 1.23),
    (td.DECIMAL, 2, Decimal("-0.00"), 0),
    (td.BOOL, None, 1, True),
    (td.BOOL, None, "false", False),
    (td.INT, None, 5.0, 5),
    (td.DATETIME, None, "2024-03-01T02:00:00+02:00", dt.datetime(2024, 3, 1, 0, 0)),
    (td.DATETIME, None, "2024-03-01 00:00", dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)),
    (td.TIME, None, "07:05", dt.time(7, 5)),
    (td.UUID, None, "0f" * 16, uuid.UUID("0f" * 16)),
    (td.JSON, None, '{"b": [1], "a": "张"}', {"a": "张", "b": [1]}),
    (td.CHAR, None, "ab", "ab   "),
    (td.BYTES, None, b"\x01", memoryview(b"\x01")),
])
def test_canonical_forms_agree_across_drivers(kind: str, scale: int | None, left: Any,
                                              right: Any) -> None:
    assert td.canonical_value(kind, scale, left) == td.canonical_value(kind, scale, right)


@pytest.mark.parametrize(("kind", "scale", "left", "right"), [
    (td.DECIMAL, 2, "12.345", Decimal("12.35")),
    (td.DECIMAL, 2, 12.5, Decimal("12.51")),
    (td.BOOL, None, 2, True),
    (td.DATETIME, None, "2024-03-01 00:00:00", dt.datetime(2024, 3, 1, 0, 0, 1)),
    (td.DATETIME, None, "not a date", "2024-03-01 00:00:00"),
    (td.TEXT, None, "trailing ", "trailing"),
    (td.DATE, None, "2024-03-01", dt.date(2024, 3, 2)),
])
def test_canonical_forms_keep_real_differences(kind: str, scale: int | None, left: Any,
                                               right: Any) -> None:
    assert td.canonical_value(kind, scale, left) != td.canonical_value(kind, scale, right)


def test_kinds_of_declared_and_catalog_types() -> None:
    assert td.declared_kind("NUMERIC(12, 2)") == (td.DECIMAL, 2)
    assert td.declared_kind("DATETIME") == (td.DATETIME, None)
    assert td.declared_kind("BOOLEAN") == (td.BOOL, None)
    assert td.declared_kind("VARCHAR(16)") == (td.TEXT, None)
    assert td.postgres_kind("timestamp with time zone") == td.DATETIME
    assert td.postgres_kind("character") == td.CHAR
    assert td.postgres_kind("USER-DEFINED") == td.TEXT


def test_common_shapes_report_what_only_one_side_has() -> None:
    def shape(name: str, *columns: td.ColumnShape) -> td.TableShape:
        return td.TableShape(name, columns, ("id",))

    source = {"a": shape("a", td.ColumnShape("id", td.INT), td.ColumnShape("v", td.DECIMAL),
                         td.ColumnShape("old", td.TEXT)),
              "gone": shape("gone", td.ColumnShape("id", td.INT))}
    target = {"a": shape("a", td.ColumnShape("id", td.INT), td.ColumnShape("v", td.DECIMAL, 2),
                         td.ColumnShape("new", td.TEXT)),
              "alembic_version": shape("alembic_version", td.ColumnShape("id", td.TEXT))}
    shapes, problems = td.common_shapes(source, target)
    assert problems == ["a.old: column only in SQLite", "a.new: column only in PostgreSQL",
                        "gone: table missing in PostgreSQL"]
    assert shapes["a"].columns == (td.ColumnShape("id", td.INT), td.ColumnShape("v", td.DECIMAL, 2))
    assert set(shapes) == {"a"}


def test_a_filled_file_digests_the_same_every_time(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(LEDGER.replace("ledger", "plain") + LEDGER)
    fill_sqlite(path, 20, seed=5)
    first = td.digest_sqlite(path, ["ledger", "plain"])
    assert first == td.digest_sqlite(path, ["ledger", "plain"])
    assert first["ledger"].rows == 20
    # Same rows in two tables of the same shape: the digest is about content, not the name.
    assert first["ledger"].sha256 == first["plain"].sha256


# -- against a real PostgreSQL --------------------------------------------------------------

PG_LEDGER = """
CREATE TABLE ledger (
    id bigint PRIMARY KEY, amount numeric(12, 2) NOT NULL, paid boolean, due date,
    at timestamptz, wake time, raw bytea, doc jsonb, name varchar(40), ratio double precision
)
"""


def _bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port, stopped and deleted afterwards."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb) on this host")
    base = Path(tempfile.mkdtemp(prefix="rg-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run initdb as")
        os.chown(base, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w"]
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-E", "UTF8",
                        "--locale=C.UTF-8", "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run([*pg_ctl, "-l", str(base / "server.log"), "-o",
                        f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True, timeout=60)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def _migrate(sqlite_path: Path, conn: Any) -> None:
    """A correct migration of the ledger, the way an application would write one."""
    from psycopg.types.json import Jsonb

    def convert(name: str, value: Any) -> Any:
        if value is None:
            return None
        converters: dict[str, Any] = {
            "amount": lambda v: Decimal(str(v)), "paid": bool,
            "due": dt.date.fromisoformat, "wake": dt.time.fromisoformat,
            "at": lambda v: dt.datetime.fromisoformat(v).replace(tzinfo=dt.timezone.utc),
            "doc": lambda v: Jsonb(json.loads(v)),
        }
        return converters.get(name, lambda v: v)(value)

    with closing(sqlite3.connect(sqlite_path)) as src:
        rows = src.execute(SELECT_LEDGER).fetchall()
    with conn.cursor() as cur:
        cur.executemany(
            INSERT_LEDGER.replace("?", "%s"),
            [[convert(n, v) for n, v in zip(NAMES, row, strict=True)] for row in rows])


@pytest.mark.integration
def test_sqlite_and_postgresql_digests_agree_and_catch_differences(
    postgres_dsn: str, tmp_path: Path,
) -> None:
    import psycopg

    path = tmp_path / "legacy.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(LEDGER)
    fill_sqlite(path, 25, seed=11)
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS ledger")
        conn.execute(PG_LEDGER)
        conn.execute("SET TIME ZONE 'Asia/Shanghai'")  # the harness must not depend on it
        _migrate(path, conn)

        shapes, problems = td.common_shapes(td.sqlite_shapes(path, ["ledger"]),
                                            td.postgres_shapes(conn, ["ledger"]))
        assert problems == []
        assert shapes["ledger"].key == ("id",)
        source = td.digest_sqlite(path, ["ledger"], shapes)["ledger"]
        target = td.digest_postgres(conn, ["ledger"], shapes)["ledger"]
        assert source.rows == 25
        assert source == target, td.describe_difference(
            td.sqlite_lines(path, shapes["ledger"]), td.postgres_lines(conn, shapes["ledger"]),
            left_name="SQLite", right_name="PostgreSQL")

        conn.execute("UPDATE ledger SET amount = amount + 0.01 WHERE id = 7")
        cent = td.digest_postgres(conn, ["ledger"], shapes)["ledger"]
        assert cent.rows == 25 and cent.sha256 != source.sha256

        conn.execute("DELETE FROM ledger WHERE id = 7")
        assert td.digest_postgres(conn, ["ledger"], shapes)["ledger"].rows == 24

        conn.execute("ALTER TABLE ledger ADD COLUMN extra text")
        _, problems = td.common_shapes(td.sqlite_shapes(path, ["ledger"]),
                                       td.postgres_shapes(conn, ["ledger"]))
        assert problems == ["ledger.extra: column only in PostgreSQL"]
