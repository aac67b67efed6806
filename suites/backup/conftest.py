"""Fixtures of the backup suite: its profile section and a fresh PostgreSQL server, started once,
that every restore of the suite goes into (each into a new empty database on it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.config.sections.backup import BackupSettings
from releasegate.measure.api import Api, LoginFailed
from releasegate.measure.traffic import login_when_ready
from releasegate.stack.databases import FreshServer, fresh_postgres
from releasegate.stack.model import StackInfo


@pytest.fixture(scope="session")
def backup_settings(gate_profile: Profile) -> BackupSettings:
    settings: BackupSettings = gate_profile.section("backup")
    return settings


@pytest.fixture
def logged_in(healthy_stack: StackInfo, gate_profile: Profile) -> Iterator[Api]:
    """Logged in now, not once per run: an earlier fault may have left the database still
    starting when the run's own login was first tried."""
    try:
        api = login_when_ready(healthy_stack.base_url, gate_profile.login,
                               healthy_stack.template_values())
    except LoginFailed as exc:
        pytest.skip(str(exc))
    yield api
    api.close()


@pytest.fixture(scope="session")
def fresh_server(docker_client: Any, healthy_stack: StackInfo,
                 db_container: Any) -> Iterator[FreshServer]:
    with fresh_postgres(docker_client, healthy_stack, db_container, role="restore") as server:
        yield server


@pytest.fixture(autouse=True)
def _disruption_allowed(gate_profile: Profile) -> None:
    """Every test here stops, kills, floods or writes into the environment: on an external one
    only when its profile allows it (the skip makes each declared criterion insufficient)."""
    if refusal := gate_profile.disruption_refusal():
        pytest.skip(refusal)
