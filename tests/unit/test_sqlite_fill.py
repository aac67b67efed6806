"""The SQLite filler: every table filled, every constraint of a hand-written schema respected."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from releasegate.measure.sqlite_fill import FillError, fill_order, fill_sqlite, read_schema

# What SQLAlchemy's create_all writes on SQLite, plus the awkward cases a generic filler meets:
# composite and self references, a reference cycle, a text primary key, BETWEEN and column
# comparisons in CHECKs, a non-native enum and a constrained boolean.
SCHEMA = """
CREATE TABLE accounts (
    id INTEGER NOT NULL, name VARCHAR(12) NOT NULL, slug VARCHAR(40) NOT NULL,
    is_active BOOLEAN NOT NULL, flagged BOOLEAN, balance NUMERIC(12, 2) NOT NULL,
    opened DATE NOT NULL, created_at DATETIME NOT NULL, wake TIME, avatar BLOB, prefs JSON,
    ratio FLOAT, visits BIGINT, external_id CHAR(32),
    CONSTRAINT pk_accounts PRIMARY KEY (id),
    CONSTRAINT uq_accounts_slug UNIQUE (slug),
    CONSTRAINT ck_accounts_flagged CHECK (flagged IN (0, 1))
);
CREATE TABLE rooms (
    id INTEGER NOT NULL, account_id INTEGER NOT NULL, number VARCHAR(8) NOT NULL,
    status VARCHAR(11) NOT NULL, rent NUMERIC(10, 2) NOT NULL, area NUMERIC(6, 1),
    parent_id INTEGER,
    CONSTRAINT pk_rooms PRIMARY KEY (id),
    CONSTRAINT ck_rooms_status CHECK (status IN ('vacant', 'occupied', 'it''s complicated')),
    CONSTRAINT ck_rooms_rent CHECK (rent > 0), CONSTRAINT uq_rooms UNIQUE (account_id, number),
    FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE,
    FOREIGN KEY(parent_id) REFERENCES rooms (id)
);
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, room_id INTEGER NOT NULL REFERENCES rooms (id),
    number VARCHAR(20) NOT NULL UNIQUE, start_date DATE NOT NULL, end_date DATE NOT NULL,
    payment_day INTEGER NOT NULL, deposit NUMERIC(12, 2) NOT NULL DEFAULT '0',
    floors INTEGER CHECK (floors IS NULL OR floors >= 0),
    CHECK (end_date >= start_date), CHECK (payment_day BETWEEN 1 AND 28),
    CHECK ((deposit >= 0) AND (deposit <= 5000))
);
CREATE TABLE tags (code VARCHAR(10) NOT NULL PRIMARY KEY, label TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE room_tags (
    room_id INTEGER NOT NULL REFERENCES rooms (id), tag_code VARCHAR(10) NOT NULL REFERENCES tags,
    PRIMARY KEY (room_id, tag_code)
);
CREATE TABLE versions (
    account_id INTEGER NOT NULL, version INTEGER NOT NULL, note TEXT,
    PRIMARY KEY (account_id, version), FOREIGN KEY (account_id) REFERENCES accounts (id)
);
CREATE TABLE version_notes (
    id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, version INTEGER NOT NULL,
    FOREIGN KEY (account_id, version) REFERENCES versions (account_id, version)
);
CREATE TABLE hens (id INTEGER PRIMARY KEY, egg_id INTEGER REFERENCES eggs (id));
CREATE TABLE eggs (id INTEGER PRIMARY KEY, hen_id INTEGER NOT NULL REFERENCES hens (id));
CREATE INDEX ix_rooms_status ON rooms (status);
"""
ROWS = 30


def _make(path: Path, ddl: str = SCHEMA) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(ddl)
    return path


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = _make(tmp_path / "legacy.db")
    fill_sqlite(path, ROWS, seed=7)
    with closing(sqlite3.connect(path)) as conn:
        yield conn


def _column(conn: sqlite3.Connection, sql: str) -> list[object]:
    return [r[0] for r in conn.execute(sql)]


def test_every_table_gets_the_requested_rows(tmp_path: Path) -> None:
    path = _make(tmp_path / "legacy.db")
    counts = fill_sqlite(path, ROWS, seed=7)
    assert set(counts) == {"accounts", "rooms", "contracts", "tags", "room_tags", "versions",
                           "version_notes", "hens", "eggs"}
    assert set(counts.values()) == {ROWS}


def test_constraints_hold_with_foreign_keys_enforced(filled: sqlite3.Connection) -> None:
    assert filled.execute("PRAGMA foreign_key_check").fetchall() == []
    assert filled.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert filled.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    slugs = _column(filled, "SELECT slug FROM accounts")
    assert len(set(slugs)) == ROWS
    pairs = filled.execute("SELECT account_id, number FROM rooms").fetchall()
    assert len(set(pairs)) == ROWS
    # A row pointing at itself or an earlier row; the first has no parent.
    assert filled.execute("SELECT parent_id FROM rooms WHERE id = 1").fetchone()[0] is None
    assert filled.execute("SELECT count(*) FROM rooms WHERE parent_id >= id").fetchone()[0] == 0
    # The composite reference copies both columns from one parent row.
    orphans = filled.execute(
        "SELECT count(*) FROM version_notes n LEFT JOIN versions v "
        "ON v.account_id = n.account_id AND v.version = n.version WHERE v.account_id IS NULL"
    ).fetchone()[0]
    assert orphans == 0


def test_check_constraints_are_satisfied_and_cover_every_choice(
    filled: sqlite3.Connection,
) -> None:
    assert set(_column(filled, "SELECT status FROM rooms")) == {
        "vacant", "occupied", "it's complicated"}
    assert set(_column(filled, "SELECT flagged FROM accounts")) == {0, 1, None}
    assert set(_column(filled, "SELECT is_active FROM accounts")) == {0, 1}
    days = _column(filled, "SELECT payment_day FROM contracts")
    assert all(1 <= int(str(d)) <= 28 for d in days)
    deposits = [Decimal(str(d)) for d in _column(filled, "SELECT deposit FROM contracts")]
    assert all(0 <= d <= 5000 for d in deposits)
    assert filled.execute(
        "SELECT count(*) FROM contracts WHERE end_date < start_date").fetchone()[0] == 0
    assert all(Decimal(str(r)) > 0 for r in _column(filled, "SELECT rent FROM rooms"))


def test_values_are_stored_the_way_sqlalchemy_stores_them(filled: sqlite3.Connection) -> None:
    row = filled.execute(
        "SELECT opened, created_at, wake, avatar, prefs, ratio, external_id FROM accounts "
        "WHERE id = 2").fetchone()
    opened, created_at, wake, avatar, prefs, ratio, external_id = row
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", opened)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}", created_at)
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}\.\d{6}", wake)
    assert isinstance(avatar, bytes) and avatar
    assert prefs.startswith("{")
    assert isinstance(ratio, float)
    assert re.fullmatch(r"[0-9a-f]{32}", external_id)
    balances = [Decimal(str(b)) for b in _column(filled, "SELECT balance FROM accounts")]
    assert all(b == b.quantize(Decimal("0.01")) for b in balances)
    assert any(b != b.to_integral_value() for b in balances)  # cents, not just whole amounts
    assert max(int(str(v)) for v in _column(filled, "SELECT visits FROM accounts WHERE visits "
                                                    "IS NOT NULL")) > 2**31


def test_text_stays_within_length_and_exercises_escaping(filled: sqlite3.Connection) -> None:
    names = [str(n) for n in _column(filled, "SELECT name FROM accounts")]
    assert all(len(n) <= 12 for n in names)
    assert all(len(str(n)) <= 8 for n in _column(filled, "SELECT number FROM rooms"))
    slugs = " ".join(str(s) for s in _column(filled, "SELECT slug FROM accounts"))
    for fragment in ("张三", "O'Brien \"quoted\"", "<script>", "\n", "\\", "😀"):
        assert fragment in slugs


def test_nullable_columns_get_some_nulls_and_required_ones_none(
    filled: sqlite3.Connection,
) -> None:
    assert None in _column(filled, "SELECT area FROM rooms")
    assert None in _column(filled, "SELECT note FROM versions")
    assert None not in _column(filled, "SELECT name FROM accounts")
    assert None not in _column(filled, "SELECT hen_id FROM eggs")


def test_same_seed_same_file_and_order_is_parents_first(tmp_path: Path) -> None:
    dumps = []
    for name in ("a.db", "b.db"):
        path = _make(tmp_path / name)
        fill_sqlite(path, 5, seed=3)
        with closing(sqlite3.connect(path)) as conn:
            dumps.append(list(conn.iterdump()))
    assert dumps[0] == dumps[1]
    order = fill_order(read_schema(tmp_path / "a.db"))
    for parent, child in [("accounts", "rooms"), ("rooms", "contracts"), ("tags", "room_tags"),
                          ("versions", "version_notes")]:
        assert order.index(parent) < order.index(child)


def test_existing_rows_are_kept_and_numbering_continues(tmp_path: Path) -> None:
    path = _make(tmp_path / "legacy.db")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT INTO tags VALUES ('seeded', 'kept')")
        conn.execute("INSERT INTO hens (id) VALUES (1)")
        conn.commit()
    counts = fill_sqlite(path, 4)
    assert counts["tags"] == 5 and counts["hens"] == 5 and counts["eggs"] == 4


def test_schema_reading_finds_constraints(tmp_path: Path) -> None:
    schema = read_schema(_make(tmp_path / "legacy.db"))
    rooms = schema["rooms"]
    assert rooms.choices["status"] == ("vacant", "occupied", "it's complicated")
    assert rooms.bounds["rent"].low == 0 and rooms.bounds["rent"].low_open
    assert ("account_id", "number") in rooms.unique
    contracts = schema["contracts"]
    assert contracts.orderings == [("end_date", ">=", "start_date")]
    day = contracts.bounds["payment_day"]
    assert (day.low, day.high) == (Decimal(1), Decimal(28))
    assert schema["version_notes"].foreign_keys[0].parent_columns == ("account_id", "version")
    assert schema["room_tags"].key == ("room_id", "tag_code")


def test_an_unsatisfiable_table_is_reported_by_name(tmp_path: Path) -> None:
    path = _make(tmp_path / "odd.db",
                 "CREATE TABLE odd (id INTEGER PRIMARY KEY, code TEXT CHECK (length(code) > 99));")
    with pytest.raises(FillError, match="odd"):
        fill_sqlite(path, 3)
    with pytest.raises(ValueError, match="at least 1"):
        fill_sqlite(path, 0)
