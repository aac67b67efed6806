"""Before the server starts: check the settings, wait for the database, migrate, seed the admin.

    python -m ledger.prestart

Exits non-zero (and the container with it) on unsafe settings or a database that never answers.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ledger import security
from ledger.config import Settings, SettingsError, load_settings
from ledger.db import make_engine
from ledger.logs import configure_logging
from ledger.models import User

log = logging.getLogger("ledger.prestart")


def wait_for_database(engine: Engine, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    attempt = 0
    while True:
        attempt += 1
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            log.info("database reachable after %d attempt(s)", attempt)
            return
        except OperationalError as exc:
            if time.monotonic() >= deadline:
                raise SystemExit(f"database not reachable within {timeout_s:.0f} s: "
                                 f"{str(exc.orig).strip().splitlines()[0]}") from None
            time.sleep(1.0)


def seed_admin(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session:
        exists = session.scalar(select(User.id).where(User.email == settings.first_superuser))
        if exists is not None:
            return
        session.add(User(email=settings.first_superuser, full_name="Administrator",
                         hashed_password=security.hash_password(
                             settings.first_superuser_password), is_superuser=True))
        session.commit()
        log.info("administrator %s created", settings.first_superuser)


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.stderr.write("ledger: refusing to start:\n" +
                         "".join(f"  - {p}\n" for p in exc.problems))
        return 2
    configure_logging(settings.log_level)
    engine = make_engine(settings.database)
    try:
        wait_for_database(engine, float(os.environ.get("PRESTART_DB_WAIT_S", "60")))
        config = Config(os.environ.get("ALEMBIC_CONFIG", "alembic.ini"))
        config.attributes["configure_logger"] = False  # keep this process's log format
        command.upgrade(config, "head")
        seed_admin(engine, settings)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
