"""One throwaway PostgreSQL (TLS on) per session, migrated with the real Alembic command, and
the application in production mode against it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger.app import create_app
from ledger.config import Settings, load_settings
from pgserver import PgServer

APP_ROOT = Path(__file__).resolve().parents[1]
ADMIN = "root@ledger.test"
ADMIN_PASSWORD = "admin-password-for-tests"
DB_PASSWORD = "ledger-db-password"


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    server = PgServer().start()
    yield server
    server.stop()


def database_env(pg: PgServer, name: str) -> dict[str, str]:
    return {"DB_HOST": "127.0.0.1", "DB_PORT": str(pg.port), "DB_NAME": name,
            "DB_USER": "ledger_app", "DB_PASSWORD": DB_PASSWORD, "DB_SSLMODE": "require"}


def alembic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=APP_ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="session")
def fresh_database(pg: PgServer) -> Any:
    def make() -> dict[str, str]:
        name = f"ledger_{uuid.uuid4().hex[:8]}"
        pg.create_database(name, "ledger_app", DB_PASSWORD)
        return database_env(pg, name)

    return make


@pytest.fixture(scope="session")
def environment(fresh_database: Any) -> dict[str, str]:
    env = fresh_database()
    migrated = alembic(env, "upgrade", "head")
    assert migrated.returncode == 0, migrated.stderr
    return {**env, "ENVIRONMENT": "production", "SECRET_KEY": "k" * 48,
            "FIRST_SUPERUSER": ADMIN, "FIRST_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "APP_VERSION": "9.9.9-test"}


@pytest.fixture(scope="session")
def settings(environment: dict[str, str]) -> Settings:
    return load_settings(environment)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Flask:
    from ledger.db import make_engine
    from ledger.prestart import seed_admin

    engine = make_engine(settings.database)
    seed_admin(engine, settings)
    return create_app(settings, engine=engine)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token_for(client: FlaskClient, email: str, password: str) -> str:
    answer = client.post("/api/v1/login/access-token",
                         data={"username": email, "password": password})
    assert answer.status_code == 200, answer.get_json()
    return str(answer.get_json()["data"]["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def admin(client: FlaskClient) -> dict[str, str]:
    return bearer(token_for(client, ADMIN, ADMIN_PASSWORD))


@pytest.fixture()
def new_user(client: FlaskClient, admin: dict[str, str]) -> Any:
    """A factory: a fresh ordinary user, returned as (id, auth headers)."""

    def make() -> tuple[int, dict[str, str]]:
        email, password = f"user-{uuid.uuid4().hex[:10]}@ledger.test", "user-password-1"
        created = client.post("/api/v1/users/", json={"email": email, "password": password},
                              headers=admin)
        assert created.status_code == 201, created.get_json()
        return int(created.get_json()["id"]), bearer(token_for(client, email, password))

    return make
