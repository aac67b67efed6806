"""Fixtures of the reliability suite: the experiment context, and the guarantee that every fault
test leaves the stack as it found it — both containers running, attached to the run's network,
the application healthy on the same host port — or fails its teardown saying why."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.measure.api import LoginFailed
from releasegate.measure.traffic import login_when_ready
from releasegate.stack.model import StackInfo

from .experiment import Context

HEAL_WAIT_S = 90.0


@pytest.fixture
def ctx(healthy_stack: StackInfo, gate_profile: Profile, db_dsn: str) -> Iterator[Context]:
    """Logged in now, not once per run: an earlier fault may have left the database still
    starting when the run's own login was first tried."""
    try:
        api = login_when_ready(healthy_stack.base_url, gate_profile.login,
                               healthy_stack.template_values())
    except LoginFailed as exc:
        pytest.skip(str(exc))
    yield Context(gate_profile, gate_profile.section("reliability"), healthy_stack.base_url,
                  dict(api.http.headers), healthy_stack.template_values(), db_dsn)
    api.close()


def heal(client: Any, stack: StackInfo, profile: Profile, containers: dict[str, Any]) -> None:
    """Undo whatever a fault left: unpause, reattach, start; then wait for health."""
    aliases = {"db": [profile.db.name] if profile.db else [], "app": [profile.app.name]}
    for role, container in containers.items():
        container.reload()
        if container.status == "paused":
            container.unpause()
        networks = container.attrs["NetworkSettings"].get("Networks") or {}
        if stack.network and stack.network not in networks:
            client.networks.get(stack.network).connect(container, aliases=aliases[role])
        container.reload()
        if container.status != "running":
            container.start()
    if _answers(stack, profile, HEAL_WAIT_S / 3):
        return
    # An application that does not come back by itself is restarted: the next test needs a
    # healthy stack, and this test has already measured that it did not recover.
    containers["app"].restart(timeout=10)
    if not _answers(stack, profile, HEAL_WAIT_S):
        raise RuntimeError(f"the stack did not answer 200 on {profile.app.health_path} within "
                           f"{HEAL_WAIT_S:g} s of being healed after the fault, even after "
                           "restarting the application")


def _answers(stack: StackInfo, profile: Profile, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    with httpx.Client(timeout=5.0) as http:
        while time.monotonic() < deadline:
            try:
                if http.get(stack.base_url + profile.app.health_path).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    return False


@pytest.fixture
def healed(docker_client: Any, healthy_stack: StackInfo, gate_profile: Profile,
           app_container: Any, db_container: Any) -> Iterator[None]:
    """Teardown: the stack healthy again, or this test's criteria are in error."""
    yield
    heal(docker_client, healthy_stack, gate_profile, {"db": db_container, "app": app_container})


@pytest.fixture(autouse=True)
def _disruption_allowed(gate_profile: Profile) -> None:
    """Every test here stops, kills, floods or writes into the environment: on an external one
    only when its profile allows it (the skip makes each declared criterion insufficient)."""
    if refusal := gate_profile.disruption_refusal():
        pytest.skip(refusal)
