"""Requests beyond the connection pool wait for a slot instead of failing or tying up threads."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterator

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from helpers import Api, assert_error, login

from rento import db


@pytest.fixture()
def one_connection_client(app_env: Dict[str, str]) -> Iterator[TestClient]:
    """An application of its own whose pool has exactly one connection."""
    from rento.app import create_app
    from rento.config import get_settings

    settings = dataclasses.replace(
        get_settings(), db_pool_size=1, db_max_overflow=0, db_pool_timeout=1.0
    )
    # The engines are process-wide: keep the session application's and put them back after.
    saved = (db._engine, db._health_engine, db._session_factory, db._request_slots)
    db._engine = db._health_engine = db._session_factory = db._request_slots = None
    try:
        with TestClient(create_app(settings, configure_logs=False)) as client:
            yield client
    finally:
        db.dispose_engines()
        db._engine, db._health_engine, db._session_factory, db._request_slots = saved


def _limit_worker_threads(tokens: int) -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = tokens


def _admin(client: TestClient, env: Dict[str, str]) -> Api:
    return login(client, env["RENTO_ADMIN_USERNAME"], env["RENTO_ADMIN_PASSWORD"])


def test_more_concurrent_requests_than_connections_all_succeed(
    one_connection_client: TestClient, app_env: Dict[str, str]
) -> None:
    api = _admin(one_connection_client, app_env)
    portal = one_connection_client.portal
    assert portal is not None
    # Fewer worker threads than concurrent requests: waiting for a connection in a thread would
    # starve the request that holds it.
    portal.call(_limit_worker_threads, 4)
    paths = ["/api/buildings", "/api/rooms", "/api/bills", "/api/dashboard/stats"] * 6
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        statuses = list(pool.map(lambda path: api.get(path).status_code, paths))
    assert statuses == [200] * len(paths)
    assert db.get_engine().pool.checkedout() == 0  # every connection went back


def test_no_free_slot_within_the_pool_timeout_answers_503(
    one_connection_client: TestClient, app_env: Dict[str, str]
) -> None:
    api = _admin(one_connection_client, app_env)
    slots = db._request_slots
    assert slots is not None
    portal = one_connection_client.portal
    assert portal is not None
    with portal.wrap_async_context_manager(slots.hold()):  # the only slot is taken
        response = api.get("/api/buildings")
    assert_error(response, 503, "database_unavailable")
    assert response.headers["retry-after"]
    assert api.get("/api/buildings").status_code == 200  # free again
