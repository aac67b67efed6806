"""Alembic environment: the database is read from the DB_* environment variables."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from ledger.config import DatabaseSettings
from ledger.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_from_environment() -> DatabaseSettings:
    env = os.environ
    return DatabaseSettings(
        host=env.get("DB_HOST", "localhost"), port=int(env.get("DB_PORT", "5432")),
        name=env.get("DB_NAME", "ledger"), user=env.get("DB_USER", "ledger"),
        password=env.get("DB_PASSWORD", ""), sslmode=env.get("DB_SSLMODE", "prefer"),
        connect_timeout_s=int(env.get("DB_CONNECT_TIMEOUT", "10")),
    )


def run_migrations_offline() -> None:
    context.configure(url=database_from_environment().url(), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(database_from_environment().url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
