"""Start-up tasks: wait for the database, apply migrations, create the bootstrap administrator.

Safe to run from several processes at once (several workers or replicas): migrations and the
administrator check run under one PostgreSQL advisory lock.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from rento.config import Settings
from rento.migrations_runner import ADVISORY_LOCK_KEY, upgrade_with_connection
from rento.models import Account, User
from rento.security import hash_password

log = logging.getLogger("rento.bootstrap")


def wait_for_database(engine: Engine, timeout_s: float) -> None:
    """Retry until the server answers; raise the last error after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    delay = 0.5
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except OperationalError as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning(
                "database not reachable yet, retrying",
                extra={"error_type": type(exc.orig or exc).__name__, "retry_in_s": delay},
            )
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def prepare(engine: Engine, settings: Settings) -> None:

    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        conn.commit()
        try:
            if settings.run_migrations:
                upgrade_with_connection(conn)
                conn.commit()
            ensure_admin(conn, settings)
            conn.commit()
        finally:
            conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            conn.commit()


def ensure_admin(conn: Connection, settings: Settings) -> None:
    """Create account 1 and its administrator if no such user exists yet."""
    username = settings.admin_username
    if conn.scalar(select(User.id).where(User.username == username)) is not None:
        return
    if not settings.admin_password:
        log.warning("no administrator created: RENTO_ADMIN_PASSWORD is not set")
        return
    if conn.scalar(select(Account.id).where(Account.id == 1)) is None:
        conn.execute(insert(Account).values(id=1, name="Default"))
        # The explicit id bypassed the identity sequence: move it past the rows that exist.
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('accounts', 'id'), "
                "(SELECT max(id) FROM accounts))"
            )
        )
    conn.execute(
        insert(User).values(
            account_id=1,
            username=username,
            password_hash=hash_password(settings.admin_password),
            role="admin",
            is_active=True,
        )
    )
    log.info("bootstrap administrator created")
