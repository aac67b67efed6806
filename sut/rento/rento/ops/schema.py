"""Bring a database to the application's Alembic head (used before a SQLite migration)."""

from __future__ import annotations

from typing import Optional


def upgrade_head(database_url: str) -> Optional[str]:
    """``alembic upgrade head`` on ``database_url`` (under the application's migration lock);
    returns the revision now current."""
    from rento import migrations_runner

    migrations_runner.upgrade(database_url, "head")
    return migrations_runner.current_revision(database_url)
