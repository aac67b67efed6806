"""FUNC-CONTAINER-BUILD-RUN and PERF-CONTAINER-START: the image builds, the container comes up
— healthy by the engine's own verdict where the image declares a HEALTHCHECK, by the harness's
probe where it does not — and every start is timed from the engine's StartedAt to the arrival
of the first healthy answer."""

from __future__ import annotations

import time
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.container_start import StartObservation
from releasegate.measure import start_timing
from releasegate.measure.health import declared_healthcheck, reaches_healthy
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.deploy
RESTARTS = 2
"""With the stack's own start, a deployment run alone gathers the three starts the criterion
needs."""


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


def _image_healthcheck(docker: Any, container: Any, image_id: str) -> list[str] | None:
    """The image's own HEALTHCHECK (the container's config inherits it when the image is gone)."""
    try:
        config = docker.images.get(image_id).attrs.get("Config") if image_id else None
    except Exception:  # an image removed meanwhile: the container still carries its config
        config = None
    return declared_healthcheck(config if config is not None else container.attrs["Config"])


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
    docker = request.getfixturevalue("docker_client")
    container = docker.containers.get(stack.app_container)
    healthcheck = _image_healthcheck(docker, container, startup.image_id)
    status, log = (_docker_health(container, timeout=gate_profile.health_timeout_s)
                   if healthcheck else ("no HEALTHCHECK", []))
    probe = (f"after {startup.healthy_after_s:.1f} s" if stack.healthy else
             f"last answer {startup.last_health_status or startup.last_health_error} after "
             f"{startup.health_wait_s:.0f} s")
    checks.add(*reaches_healthy(healthcheck=healthcheck, engine_status=status,
                                probe_ok=stack.healthy, health_path=gate_profile.app.health_path,
                                probe_detail=probe))
    container.reload()
    state = container.attrs["State"]
    checks.add("running, not restarting", state.get("Status") == "running"
               and int(container.attrs.get("RestartCount", 0)) == 0,
               f"status {state.get('Status')}, restarts {container.attrs.get('RestartCount')}")
    record.checks(
        "FUNC-CONTAINER-BUILD-RUN", checks,
        source="docker build in this run; docker inspect State.Health where the image declares "
               "a HEALTHCHECK, else the harness's HTTP probe of the health path",
        evidence={"image": startup.image, "image_id": startup.image_id,
                  "build_seconds": startup.build_seconds, "base_image": startup.base_image,
                  "base_image_source": startup.base_image_source,
                  "healthcheck": healthcheck, "engine_health": status,
                  "harness_probe": probe,
                  "docker_health_log": [str(entry.get("Output", ""))[:200] for entry in log]},
        attachments=[record.attach("build-log-tail.txt", startup.build_log_tail)]
        if startup.build_log_tail else [],
    )


@pytest.mark.criterion("PERF-CONTAINER-START")
def test_container_start_time(stack: StackInfo, record: Recorder) -> None:
    """The first sample: the stack's own start, as the stack observed it."""
    if stack.provider != "containers":
        record.insufficient("PERF-CONTAINER-START", "the container was not started by this run")
        return
    if not stack.startup.container_started or not stack.startup.start:
        record.insufficient("PERF-CONTAINER-START", "the container never started")
        return
    start_timing.record_start(record, StartObservation(**stack.startup.start),
                              cause="first start (the stack's)")


@pytest.mark.disruptive
@pytest.mark.criterion("PERF-CONTAINER-START")
def test_container_restart_time(
    healthy_stack: StackInfo, gate_profile: Profile, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    """More samples: the application container restarted, each start timed the same way."""
    if refusal := gate_profile.disruption_refusal():
        record.insufficient("PERF-CONTAINER-START", f"not restarted: {refusal}")
        return
    container = request.getfixturevalue("app_container")
    url = healthy_stack.base_url + gate_profile.app.health_path
    for number in range(1, RESTARTS + 1):
        container.restart(timeout=10)
        start_timing.record_after_start(record, container, url,
                                        timeout=gate_profile.health_timeout_s,
                                        cause=f"restart {number} by the deployment suite")
