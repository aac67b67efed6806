"""Alembic, driven from code: the migration scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from rento.db import normalise_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Serialises schema changes between processes (workers, replicas, a CLI run): "rento" in ASCII.
ADVISORY_LOCK_KEY = 0x72656E746F


def alembic_config(database_url: Optional[str] = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        # ConfigParser interpolation treats % specially (URL-encoded passwords contain it).
        config.set_main_option(
            "sqlalchemy.url", normalise_database_url(database_url).replace("%", "%%")
        )
    return config


def upgrade_with_connection(conn: Connection, revision: str = "head") -> None:
    config = alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, revision)


def upgrade(database_url: str, revision: str = "head") -> None:
    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            conn.commit()
            try:
                upgrade_with_connection(conn, revision)
                conn.commit()
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return ",".join(heads)


def current_revision(database_url: str) -> Optional[str]:
    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
    finally:
        engine.dispose()
    return ",".join(heads) if heads else None
