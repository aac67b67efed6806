"""Database engines and sessions.

Two engines share one URL (and so the same TLS settings):

* the main engine serves API requests; ``pool_pre_ping`` and ``pool_recycle`` let the pool heal by
  itself after a database restart (stale connections are detected and replaced on checkout);
* a tiny health engine serves ``/health/ready`` so that a busy main pool can never make the health
  check time out, and a hung database can only tie up its two connections.

Client-side timeouts (connect timeout, TCP keepalives, ``tcp_user_timeout``) bound how long a call
can hang when the server vanishes without closing the connection; ``statement_timeout`` bounds how
long the server may work on one statement.

API requests are admitted to the database only while the main pool has a connection for them
(:class:`RequestSlots`); the others wait in the event loop, not in a worker thread.
"""

from __future__ import annotations

import threading
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, Optional

import anyio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from rento.config import Settings

_lock = threading.Lock()
_engine: Optional[Engine] = None
_health_engine: Optional[Engine] = None
_session_factory: Optional[sessionmaker[Session]] = None


class RequestSlots:
    """Admission of API requests to the database: one slot per connection of the main pool.

    A request keeps its connection from its first query until it has been answered, and in
    between it moves several times from the event loop to a worker thread and back
    (authentication, the handler, response validation). If more requests than the pool has
    connections got that far, the surplus would block worker threads waiting for a connection
    while the holders wait for a free thread to finish, until the pool timeout fails them. So a
    request first takes a slot; without one it waits in the event loop, where waiting costs no
    thread, for at most ``timeout`` seconds (then 503, as for an exhausted pool). A request
    holding a slot never waits for a connection.
    """

    def __init__(self, slots: int, timeout: float) -> None:
        self._semaphore = anyio.Semaphore(slots)
        self.timeout = timeout

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[float]:
        """Hold a slot; yields the seconds spent waiting for it."""
        started = time.perf_counter()
        try:
            with anyio.fail_after(self.timeout):
                await self._semaphore.acquire()
        except TimeoutError:
            raise PoolTimeoutError(
                f"no database connection became free within {self.timeout:g} s"
            ) from None
        try:
            yield time.perf_counter() - started
        finally:
            self._semaphore.release()


_request_slots: Optional[RequestSlots] = None


def normalise_database_url(url: str) -> str:
    """Accept postgres://, postgresql:// and postgresql+psycopg:// and use the psycopg 3 driver."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_password(url: str) -> Optional[str]:
    """The password inside a database URL (registered for log redaction)."""
    try:
        return make_url(normalise_database_url(url)).password
    except Exception:
        return None


def _connect_args(
    settings: Settings, statement_timeout_ms: int, connect_timeout: int
) -> Dict[str, Any]:
    return {
        "connect_timeout": connect_timeout,
        "application_name": "rento",
        "options": f"-c statement_timeout={int(statement_timeout_ms)}",
        # Detect a silently dead peer (network cut, paused server) instead of hanging for minutes.
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": max(10000, statement_timeout_ms + 5000),
    }


def build_engine(settings: Settings) -> Engine:
    return create_engine(
        normalise_database_url(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=True,
        connect_args=_connect_args(
            settings, settings.db_statement_timeout_ms, settings.db_connect_timeout
        ),
    )


def build_health_engine(settings: Settings) -> Engine:
    connect_timeout = max(1, min(settings.db_connect_timeout, 2))
    return create_engine(
        normalise_database_url(settings.database_url),
        pool_size=1,
        max_overflow=1,
        pool_timeout=0.5,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=True,
        connect_args=_connect_args(settings, 2000, connect_timeout),
    )


def init_engines(settings: Settings) -> Engine:
    """Create the process-wide engines (idempotent)."""
    global _engine, _health_engine, _session_factory, _request_slots
    with _lock:
        if _engine is None:
            _engine = build_engine(settings)
            _health_engine = build_health_engine(settings)
            _session_factory = sessionmaker(bind=_engine, expire_on_commit=False)
            _request_slots = RequestSlots(
                settings.db_pool_size + settings.db_max_overflow, settings.db_pool_timeout
            )
        return _engine


def get_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database engine not initialised")
    return _engine


def get_health_engine() -> Engine:
    if _health_engine is None:
        raise RuntimeError("database engine not initialised")
    return _health_engine


def dispose_engines() -> None:
    global _engine, _health_engine, _session_factory, _request_slots
    with _lock:
        for engine in (_engine, _health_engine):
            if engine is not None:
                engine.dispose()
        _engine = _health_engine = None
        _session_factory = None
        _request_slots = None


async def get_db(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency: one session per request, always closed (connection back to the pool).

    The request is admitted first (:class:`RequestSlots`), so it never waits for a connection
    while holding a worker thread. The wait is reported in the ``Server-Timing`` header
    (``db-wait``).
    """
    slots, factory = _request_slots, _session_factory
    if slots is None or factory is None:
        raise RuntimeError("database engine not initialised")
    async with slots.hold() as waited:
        request.state.db_wait_ms = waited * 1000
        session = factory()
        try:
            yield session
        finally:
            await run_in_threadpool(session.close)


def probe(engine: Engine) -> Dict[str, Any]:
    """One round trip to the server; returns latency and server version (raises on failure)."""
    started = time.perf_counter()
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar_one()
    return {
        "status": "up",
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        "server_version": str(version),
    }
