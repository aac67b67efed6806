"""SQLite -> PostgreSQL: every table, counts and ordered content hashes equal, idempotent."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

import psycopg

from rento.ops.pgconn import PgTarget
from rento.ops.sqlite_migrate import migrate_sqlite, sqlite_init

from .legacy_fill import fill
from .ops_helpers import last_json, ops_env, run_cli


def _pg(url: str) -> psycopg.Connection:
    return psycopg.connect(**PgTarget.from_url(url).connect_kwargs(), autocommit=True)


def test_sqlite_init_fill_migrate_twice(new_database: Callable[..., str], tmp_path: Path) -> None:
    legacy = tmp_path / "legacy" / "dev.db"
    target = new_database("migr")
    env = ops_env(target, tmp_path / "b")

    init = run_cli(["sqlite-init", str(legacy)], env)
    assert init.returncode == 0, init.stderr
    assert set(last_json(init.stdout)["tables"]) >= {
        "accounts",
        "users",
        "buildings",
        "rooms",
        "renters",
        "contracts",
        "bills",
        "payments",
    }
    counts = fill(str(legacy), scale=3)
    assert all(n > 0 for n in counts.values())

    first = run_cli(["migrate-sqlite", "--source", str(legacy), "--batch-size", "17"], env)
    assert first.returncode == 0, first.stdout + first.stderr
    report = last_json(first.stdout)
    assert report["status"] == "ok" and report["alembic_revision"]
    for table, n in counts.items():
        entry = report["tables"][table]
        assert entry["rows_source"] == entry["rows_target"] == n
        assert entry["inserted"] == n
        assert entry["hash_source"] == entry["hash_target"]
        assert entry["equal"] is True

    second = run_cli(["migrate-sqlite", "--source", str(legacy), "--database-url", target], env)
    assert second.returncode == 0, second.stdout + second.stderr
    report2 = last_json(second.stdout)
    for table, n in counts.items():
        entry = report2["tables"][table]
        assert entry["inserted"] == 0 and entry["already_present"] == n
        assert entry["hash_target"] == report["tables"][table]["hash_target"]

    with _pg(target) as conn:
        for table, n in counts.items():
            assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == n  # noqa: S608
        # converted types: epoch-millisecond and offset timestamps, text/real money, booleans
        row = conn.execute("SELECT is_active, created_at FROM users WHERE id = 3").fetchone()
        assert row[0] is False
        assert row[1].isoformat() == "2025-01-01T00:03:03.369000+00:00"
        assert (
            conn.execute("SELECT created_at FROM users WHERE id = 2").fetchone()[0].isoformat()
            == "2025-04-12T15:15:00+00:00"
        )
        assert (
            str(conn.execute("SELECT rent FROM rooms ORDER BY id LIMIT 1").fetchone()[0]).count(".")
            == 1
        )
        # sequences were moved past the copied ids: a plain insert gets a fresh id
        new_id = conn.execute(
            "INSERT INTO accounts (name) VALUES ('after migration') RETURNING id"
        ).fetchone()[0]
        assert new_id == counts["accounts"] + 1
        pay_id = conn.execute(
            "INSERT INTO payments (account_id, bill_id, amount, method) "
            "SELECT account_id, id, 1, 'cash' FROM bills WHERE id = 1 RETURNING id"
        ).fetchone()[0]
        assert pay_id == counts["payments"] + 1


def test_migration_detects_divergent_target_and_rolls_back(
    new_database: Callable[..., str], tmp_path: Path
) -> None:
    legacy = tmp_path / "dev.db"
    target = new_database("diverge")
    env = ops_env(target, tmp_path / "b")
    sqlite_init(str(legacy))
    fill(str(legacy), scale=1)
    ok, _ = migrate_sqlite(str(legacy), target)
    assert ok
    with _pg(target) as conn:
        conn.execute("UPDATE renters SET name = 'changed' WHERE id = 1")
    # A new source row must not be half-applied when another table disagrees.
    with sqlite3.connect(legacy) as src:
        src.execute(
            "INSERT INTO accounts (id, name, created_at, updated_at) "
            "VALUES (99, 'late', '2025-01-01', '2025-01-01')"
        )
    proc = run_cli(["migrate-sqlite", "--source", str(legacy)], env)
    assert proc.returncode == 1
    report = last_json(proc.stdout)
    assert report["status"] == "mismatch" and report["rolled_back"] is True
    assert report["tables"]["renters"]["equal"] is False
    assert report["tables"]["renters"]["difference"]["different"] == 1
    assert report["tables"]["renters"]["difference"]["example_keys"] == {"different": [1]}
    assert report["tables"]["accounts"]["equal"] is True  # copied, then rolled back with the rest
    with _pg(target) as conn:
        assert conn.execute("SELECT count(*) FROM accounts WHERE id = 99").fetchone()[0] == 0


OWNED_THROUGH_PARENT = ("rooms", "contracts", "bills", "payments")


def test_source_without_account_id_gets_it_from_the_parent(
    new_database: Callable[..., str], tmp_path: Path
) -> None:
    """Files made before rooms, contracts, bills and payments carried account_id still migrate."""
    legacy = tmp_path / "old.db"
    sqlite_init(str(legacy))
    fill(str(legacy), scale=2)
    with sqlite3.connect(legacy) as src:
        expected = {
            t: src.execute(f"SELECT id, account_id FROM {t} ORDER BY id").fetchall()  # noqa: S608
            for t in OWNED_THROUGH_PARENT
        }
        # The former layout: the same tables without the column.
        for table in OWNED_THROUGH_PARENT:
            columns = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
            kept = ", ".join(c for c in columns if c != "account_id")
            src.execute(f"CREATE TABLE old_{table} AS SELECT {kept} FROM {table}")  # noqa: S608
        src.execute("PRAGMA foreign_keys = OFF")
        for table in reversed(OWNED_THROUGH_PARENT):
            src.execute(f"DROP TABLE {table}")
            src.execute(f"ALTER TABLE old_{table} RENAME TO {table}")
    target = new_database("oldlayout")
    ok, report = migrate_sqlite(str(legacy), target)
    assert ok, report
    with _pg(target) as conn:
        for table, rows in expected.items():
            assert report["tables"][table]["equal"] is True
            query = f"SELECT id, account_id FROM {table} ORDER BY id"  # noqa: S608
            assert conn.execute(query).fetchall() == rows, table
