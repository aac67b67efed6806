"""Fixtures the suites share. Each one states what it needs; where the stack cannot give it
(an external environment without a DSN, say) the fixture skips with the reason, and the plugin
turns that skip into an ``insufficient`` verdict for the test's criteria — never a pass."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.measure.api import Api, LoginFailed, login
from releasegate.stack.model import StackInfo


@pytest.fixture(scope="session")
def docker_client(stack: StackInfo) -> Any:
    if not (stack.app_container or stack.db_container):
        pytest.skip(stack.limitations.get("containers", "the stack exposes no containers"))
    from releasegate.stack.engine import connect_engine

    return connect_engine(auto_install=False, progress=lambda _: None)


@pytest.fixture(scope="session")
def app_container(stack: StackInfo, docker_client: Any) -> Any:
    if not stack.app_container:
        pytest.skip("the application container is not known for this environment")
    return docker_client.containers.get(stack.app_container)


@pytest.fixture(scope="session")
def db_container(stack: StackInfo, docker_client: Any) -> Any:
    if not stack.db_container:
        pytest.skip("the database container is not known for this environment")
    return docker_client.containers.get(stack.db_container)


@pytest.fixture(scope="session")
def db_dsn(stack: StackInfo) -> str:
    if stack.db is None:
        pytest.skip(stack.limitations.get("database", "the stack exposes no database"))
    return stack.db.dsn()


@pytest.fixture(scope="session")
def anon(stack: StackInfo) -> Iterator[Api]:
    api = Api(stack.base_url)
    yield api
    api.close()


@pytest.fixture(scope="session")
def api(healthy_stack: StackInfo, gate_profile: Profile) -> Iterator[Api]:
    try:
        client = login(healthy_stack.base_url, gate_profile.login, healthy_stack.secrets)
    except LoginFailed as exc:
        pytest.fail(f"logging in with the profile's recipe failed: {exc}", pytrace=False)
    yield client
    client.close()


@pytest.fixture(scope="session")
def alerts_url(stack: StackInfo) -> str:
    if not stack.alerts_read_url:
        pytest.skip(stack.limitations.get("alerts", "no alert receiver in this environment"))
    return stack.alerts_read_url


@pytest.fixture(scope="session")
def scratch_database(stack: StackInfo, db_dsn: str) -> Any:
    """A factory: ``with scratch_database("name") as (dsn, url_for_app):`` — dropped after."""

    if not stack.db_internal_host:
        pytest.skip("how the application reaches the database is unknown here: set "
                    "[external] app_db_host = \"host:port\"")

    @contextmanager
    def make(label: str) -> Iterator[tuple[str, str]]:
        assert stack.db is not None
        name = f"rg_{label}_{stack.run_id}"
        with psycopg.connect(db_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        values = stack.template_values()
        app_url = (
            f"postgresql://{values['db.user']}:{values['db.password']}@{values['db.host']}:"
            f"{values['db.port']}/{name}?sslmode={values['db.sslmode']}"
        )
        try:
            yield stack.db.dsn(name), app_url
        finally:
            with psycopg.connect(db_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make
