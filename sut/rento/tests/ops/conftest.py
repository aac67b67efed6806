"""Fixtures for the operations tests.

The PostgreSQL cluster is the session's ``pg`` fixture (``tests/conftest.py``: host server
binaries, TLS required, SCRAM passwords, so a wrong password really fails). Every test here gets
fresh databases from :func:`new_database`, owned by the application role, and its own alert
receiver (a real HTTP server on 127.0.0.1).
"""

from __future__ import annotations

import uuid
from typing import Callable, Iterator

import pytest
from helpers import AlertReceiver
from pgcluster import PgCluster

from .ops_helpers import create_schema


@pytest.fixture(scope="session")
def new_database(pg: PgCluster) -> Callable[..., str]:
    """Factory: a fresh empty database owned by the application role; returns its URL."""

    def make(prefix: str = "ops") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        pg.psql(f'CREATE DATABASE "{name}" OWNER {pg.user}')
        return pg.url.replace("/rento?", f"/{name}?")

    return make


@pytest.fixture()
def schema_db(new_database: Callable[..., str]) -> str:
    url = new_database("schema")
    create_schema(url)
    return url


@pytest.fixture()
def alert_receiver() -> Iterator[AlertReceiver]:
    """A receiver of its own per test (the session one collects the API tests' alerts)."""
    receiver = AlertReceiver()
    try:
        yield receiver
    finally:
        receiver.close()
