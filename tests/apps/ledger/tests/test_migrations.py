"""Alembic reads the database from DB_* variables, logs to stderr, and is idempotent."""

from __future__ import annotations

from typing import Any

from conftest import alembic

HEAD = "9c3f5d2e8a40"


def test_upgrade_twice_and_revision_reads_from_stdout(fresh_database: Any) -> None:
    env = fresh_database()
    first = alembic(env, "upgrade", "head")
    assert first.returncode == 0, first.stderr
    assert "INFO  [alembic.runtime.migration] Running upgrade" in first.stderr
    assert first.stdout == ""
    second = alembic(env, "upgrade", "head")
    assert second.returncode == 0 and "Running upgrade" not in second.stderr
    current, heads = alembic(env, "current"), alembic(env, "heads")
    assert current.stdout.strip() == heads.stdout.strip() == f"{HEAD} (head)"
    assert "INFO" in current.stderr and "INFO" not in current.stdout


def test_models_and_migrations_agree_and_downgrade_works(fresh_database: Any) -> None:
    env = fresh_database()
    assert alembic(env, "upgrade", "head").returncode == 0
    check = alembic(env, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert alembic(env, "downgrade", "base").returncode == 0
    assert alembic(env, "current").stdout.strip() == ""
    assert alembic(env, "upgrade", "head").returncode == 0


def test_a_wrong_password_fails_with_a_non_zero_exit(fresh_database: Any) -> None:
    env = {**fresh_database(), "DB_PASSWORD": "wrong"}
    failed = alembic(env, "current")
    assert failed.returncode != 0 and "password authentication failed" in failed.stderr
