"""SEC-CONTAINER-HARDENING: the running containers as the engine reports them, and the Dockerfile
the application is built from, linted."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import triage
from releasegate.measure.recorder import Recorder
from releasegate.measure.security.hardening import inspect_findings, run_hadolint
from releasegate.measure.security.support import (
    ToolFailed,
    announce,
    split_by_floor,
    stopwatch,
)
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CID = "SEC-CONTAINER-HARDENING"


@pytest.mark.criterion(CID)
def test_containers_are_hardened(
    stack: StackInfo, gate_profile: Profile, app_container: Any, docker_client: Any,
    record: Recorder, request: pytest.FixtureRequest,
) -> None:
    settings = gate_profile.section("security")
    hardening = settings.hardening
    with stopwatch() as watch:
        containers = [("app", app_container)]
        if stack.db_container:
            containers.append(("db", docker_client.containers.get(stack.db_container)))
        findings, checks = [], []
        for role, container in containers:
            container.reload()
            image = docker_client.images.get(container.attrs["Image"]).attrs
            found, made = inspect_findings(
                container.attrs, image, role=role, read_only_rootfs=hardening.read_only_rootfs
                and role == "app", allowed_caps=hardening.allowed_capabilities,
                app=role == "app")
            findings += found
            checks += [f"{role}: {check}" for check in made]
    announce(request.config, f"security: container inspection ({len(checks)} checks) took "
             f"{watch.seconds:.1f} s")
    record.findings(CID, triage(findings, settings.waivers, date.today()), examined=len(checks),
                    what="container setting", scope="containers",
                    source="docker inspect of the running containers and the app's image",
                    evidence={"checks": checks, "seconds": watch.seconds})


@pytest.mark.criterion(CID)
def test_dockerfile_lints_without_errors(gate_profile: Profile, record: Recorder,
                                         request: pytest.FixtureRequest) -> None:
    settings = gate_profile.section("security")
    build = gate_profile.app.build
    if not settings.hardening.lint_dockerfile:
        record.insufficient(CID, "the profile turned the Dockerfile lint off "
                            "([security.hardening] lint_dockerfile = false)", scope="dockerfile")
        return
    if build is None:
        record.insufficient(CID, "the profile names an image, not a Dockerfile, so there is "
                            "nothing to lint", scope="dockerfile")
        return
    dockerfile = build.context / build.dockerfile
    with stopwatch() as watch:
        try:
            findings, instructions = run_hadolint(
                dockerfile, label=f"{build.context.name}/{build.dockerfile}")
        except ToolFailed as exc:
            record.error(CID, str(exc), scope="dockerfile")
            return
    announce(request.config, f"security: hadolint ({instructions} instructions) took "
             f"{watch.seconds:.1f} s")
    errors, listed = split_by_floor(findings, "high")
    record.findings(CID, triage(errors, settings.waivers, date.today()), examined=instructions,
                    what="Dockerfile instruction", scope="dockerfile", listed=listed,
                    source=f"hadolint on {dockerfile} (errors count, warnings are listed)",
                    evidence={"seconds": watch.seconds})
