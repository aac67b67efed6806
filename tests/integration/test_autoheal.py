"""The stack's unhealthy-restarter really restarts a container the engine marks unhealthy."""

from __future__ import annotations

import time
from pathlib import Path

import docker
import pytest

from releasegate.stack import autoheal
from releasegate.stack.engine import connect_engine
from releasegate.stack.images import ensure_image, recipe_for_python

pytestmark = pytest.mark.integration


def test_unhealthy_container_is_restarted(tmp_path: Path) -> None:
    client = connect_engine(auto_install=True, progress=print)
    image = ensure_image(client, recipe_for_python("3.11"), progress=print).tag
    container = client.containers.run(
        image, ["sleep", "300"], detach=True, labels={"releasegate.test": "1"},
        healthcheck={"test": ["CMD", "false"], "interval": 500_000_000, "retries": 1,
                     "timeout": 1_000_000_000},
    )
    journal = tmp_path / "autoheal.jsonl"
    restarter = autoheal.UnhealthyRestarter(container, journal, print).start()
    try:
        container.reload()
        first_start = container.attrs["State"]["StartedAt"]
        deadline = time.monotonic() + 30
        while not autoheal.restarts(journal) and time.monotonic() < deadline:
            time.sleep(0.5)
        events = autoheal.restarts(journal)
        assert events and events[0]["reason"] == "unhealthy"
        container.reload()
        assert container.attrs["State"]["StartedAt"] != first_start
    finally:
        restarter.stop()
        container.remove(force=True)


def test_healthy_container_is_left_alone(tmp_path: Path) -> None:
    client = docker.from_env()
    image = ensure_image(client, recipe_for_python("3.11"), progress=print).tag
    container = client.containers.run(
        image, ["sleep", "300"], detach=True, labels={"releasegate.test": "1"},
        healthcheck={"test": ["CMD", "true"], "interval": 500_000_000, "retries": 1},
    )
    journal = tmp_path / "autoheal.jsonl"
    restarter = autoheal.UnhealthyRestarter(container, journal, print).start()
    try:
        time.sleep(6)
        assert autoheal.restarts(journal) == []
    finally:
        restarter.stop()
        container.remove(force=True)
