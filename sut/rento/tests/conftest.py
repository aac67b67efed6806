"""Shared fixtures: one real PostgreSQL cluster (TLS on) and one in-process app per session.

The cluster comes from the host's PostgreSQL server binaries. Without them the database tests
FAIL (they are never skipped): install them with `apt-get install postgresql`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import AlertReceiver, Api, login, unique
from pgcluster import PgCluster, find_bin_dir

SECRET_KEY = "test-secret-key-" + "0123456789abcdef" * 3
ADMIN_USER = "platform-admin"
ADMIN_PASSWORD = "platform-admin-password"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Tests create many users; the production iteration count would dominate the run time."""
    from rento import security

    saved = security.PBKDF2_ITERATIONS
    security.PBKDF2_ITERATIONS = 5_000
    yield
    security.PBKDF2_ITERATIONS = saved


@pytest.fixture(scope="session")
def pg() -> Iterator[PgCluster]:
    try:
        find_bin_dir()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    cluster = PgCluster().create()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def alert_receiver() -> Iterator[AlertReceiver]:
    receiver = AlertReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs") / "rento.log"


@pytest.fixture(scope="session")
def app_env(
    pg: PgCluster, alert_receiver: AlertReceiver, log_file: Path
) -> Iterator[Dict[str, str]]:
    from rento import alerts
    from rento.config import get_settings

    env = {
        "RENTO_ENV": "production",
        "DATABASE_URL": pg.url,
        "RENTO_SECRET_KEY": SECRET_KEY,
        "RENTO_ADMIN_USERNAME": ADMIN_USER,
        "RENTO_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RENTO_LOG_FILE": str(log_file),
        "RENTO_LOG_MAX_BYTES": str(5 * 1024 * 1024),
        "RENTO_LOG_BACKUP_COUNT": "3",
        "RENTO_ALERT_WEBHOOK_URL": alert_receiver.url,
        "RENTO_ALERT_RETRIES": "3",
        "RENTO_ALERT_TIMEOUT_SECONDS": "2",
        "RENTO_RUN_MIGRATIONS": "true",
        "RENTO_VERSION": "test-1.2.3",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    alerts.reset_dispatcher()
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()
    alerts.reset_dispatcher()


@pytest.fixture(scope="session")
def client(app_env: Dict[str, str]) -> Iterator[TestClient]:
    from rento.app import create_app

    app = create_app()
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def platform_admin(client: TestClient) -> Api:
    return login(client, ADMIN_USER, ADMIN_PASSWORD)


@pytest.fixture()
def new_account(client: TestClient, platform_admin: Api) -> Callable[[], Dict[str, Any]]:
    """Factory: a fresh tenant organisation with its admin logged in (isolated data)."""

    def make() -> Dict[str, Any]:
        username, password = unique("admin-"), "account-admin-password"
        created = platform_admin.create(
            "/api/accounts",
            {"name": unique("Org "), "admin_username": username, "admin_password": password},
        )
        return {**created, "api": login(client, username, password), "password": password}

    return make


@pytest.fixture()
def account(new_account: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
    return new_account()


@pytest.fixture()
def admin(account: Dict[str, Any]) -> Api:
    return account["api"]  # type: ignore[no-any-return]
