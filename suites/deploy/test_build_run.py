"""FUNC-CONTAINER-BUILD-RUN and PERF-CONTAINER-START: the image builds, the container comes up."""

from __future__ import annotations

import time
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.deploy


def _docker_health(container: Any, timeout: float) -> tuple[str, list[dict[str, Any]]]:
    """Wait for the engine's own health verdict (the image's HEALTHCHECK)."""
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        health = container.attrs.get("State", {}).get("Health")
        if health is None:
            return "none", []
        status = str(health.get("Status"))
        if status in ("healthy", "unhealthy") or time.monotonic() >= deadline:
            return status, list(health.get("Log") or [])[-3:]
        time.sleep(0.5)


@pytest.mark.criterion("FUNC-CONTAINER-BUILD-RUN")
def test_image_builds_and_container_runs(
    stack: StackInfo, gate_profile: Profile, record: Recorder, request: pytest.FixtureRequest
) -> None:
    if stack.provider != "containers":
        record.insufficient("FUNC-CONTAINER-BUILD-RUN", stack.limitations.get(
            "build", "the image was not built by this run"))
        return
    startup = stack.startup
    checks = CheckList()
    checks.add("image built from the Dockerfile in this run", startup.built_in_run
               and bool(startup.image_id), startup.image or "no image")
    checks.add("container started", startup.container_started)
    checks.add(f"answers 200 on {gate_profile.app.health_path}", stack.healthy,
               f"last answer {startup.last_health_status or startup.last_health_error} after "
               f"{startup.health_wait_s:.0f} s" if not stack.healthy else
               f"after {startup.healthy_after_s:.1f} s")
    docker = request.getfixturevalue("docker_client")
    container = docker.containers.get(stack.app_container)
    status, log = _docker_health(container, timeout=gate_profile.health_timeout_s)
    checks.add("the engine reports the container healthy (image HEALTHCHECK)",
               status == "healthy", f"health status {status!r}")
    container.reload()
    state = container.attrs["State"]
    checks.add("running, not restarting", state.get("Status") == "running"
               and int(container.attrs.get("RestartCount", 0)) == 0,
               f"status {state.get('Status')}, restarts {container.attrs.get('RestartCount')}")
    record.checks(
        "FUNC-CONTAINER-BUILD-RUN", checks,
        source="docker build in this run; docker inspect State.Health; HTTP health probe",
        evidence={"image": startup.image, "image_id": startup.image_id,
                  "build_seconds": startup.build_seconds, "base_image": startup.base_image,
                  "base_image_source": startup.base_image_source,
                  "docker_health_log": [str(entry.get("Output", ""))[:200] for entry in log]},
        attachments=[record.attach("build-log-tail.txt", startup.build_log_tail)]
        if startup.build_log_tail else [],
    )


@pytest.mark.criterion("PERF-CONTAINER-START")
def test_container_start_time(stack: StackInfo, record: Recorder) -> None:
    if stack.provider != "containers":
        record.insufficient("PERF-CONTAINER-START", "the container was not started by this run")
        return
    startup = stack.startup
    if not startup.container_started:
        record.insufficient("PERF-CONTAINER-START", "the container never started")
        return
    never = startup.healthy_after_s is None
    record(
        "PERF-CONTAINER-START",
        value=startup.health_wait_s if never else startup.healthy_after_s, samples=1,
        violations=[f"no healthy answer within {startup.health_wait_s:.0f} s (a lower bound)"]
        if never else [],
        source="monotonic clock from container start to the first HTTP 200 on the health path, "
               "polled every 0.2 s",
        evidence={"healthy_after_s": startup.healthy_after_s,
                  "waited_s": round(startup.health_wait_s, 2)},
    )
