"""The database engine and one session per request."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from ledger.config import DatabaseSettings

STATEMENT_TIMEOUT_MS = 5000


def make_engine(settings: DatabaseSettings) -> Engine:
    # A short connect timeout and pre-ping keep a database outage from hanging requests: the
    # health check answers 503 within seconds, and stale connections are replaced on recovery.
    return create_engine(
        settings.url(), pool_size=5, max_overflow=5, pool_timeout=5, pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"},
    )


def init_app(app: Flask, engine: Engine) -> None:
    app.extensions["ledger.engine"] = engine
    app.extensions["ledger.sessions"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def close_session(_: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def engine() -> Engine:
    found: Engine = current_app.extensions["ledger.engine"]
    return found


def session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["ledger.sessions"]()
    current: Session = g.db_session
    return current
