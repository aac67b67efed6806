"""Bad input gets one precise line, exit 1, no containers left and no report claiming a pass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.gate.conftest import REPO

pytestmark = pytest.mark.gate
PROFILE = REPO / "profiles" / "rento.toml"


def _labelled_objects() -> set[str]:
    client = docker.from_env()
    selector = {"label": "io.releasegate.run"}
    return {c.id for c in client.containers.list(all=True, filters=selector)} | {
        n.id for n in client.networks.list(filters=selector)}


def _no_pass_claimed(reports: Path) -> None:
    summary = reports / "summary.json"
    if summary.exists():
        data = json.loads(summary.read_text())
        assert data["release"]["exit_code"] == 1
        assert all(r["verdict"] != "pass" for r in data["criteria"])


def test_broken_toml(run_gate: Any, tmp_path: Path) -> None:
    profile = tmp_path / "broken.toml"
    profile.write_text("[profile\nname = 'x'\n")
    result = run_gate("--profile", str(profile))
    assert result.exit_code == 1
    assert "not valid TOML" in result.output
    _no_pass_claimed(result.reports)


def test_unknown_criterion(run_gate: Any, tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(PROFILE.read_text().replace('"SEC-NONROOT"', '"SEC-NON-ROOT"')
                       .replace('= "../', f'= "{REPO}/'))
    result = run_gate("--profile", str(profile))
    assert result.exit_code == 1
    assert "unknown criterion ID 'SEC-NON-ROOT'" in result.output
    assert "SEC-NONROOT" in result.output


def test_missing_dockerfile(run_gate: Any) -> None:
    result = run_gate("--set", "services.app.build.dockerfile=Dockerfile.missing")
    assert result.exit_code == 1
    assert "Dockerfile.missing does not exist" in result.output


def test_image_that_fails_to_build_leaves_nothing(run_gate: Any, tmp_path: Path) -> None:
    context = tmp_path / "app"
    context.mkdir()
    (context / "Dockerfile").write_text(
        "FROM releasegate/python:3.11-bookworm\nRUN echo compiling && exit 3\n")
    before = _labelled_objects()
    result = run_gate("--set", f"services.app.build.context={context}",
                      "--set", "services.app.build.ca_bundle=.ca.crt")
    assert result.exit_code == 1
    assert "failed to build" in result.output
    assert _labelled_objects() <= before
    _no_pass_claimed(result.reports)


def test_no_engine_reachable(run_gate: Any) -> None:
    result = run_gate("--suite", "deploy",
                      env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.exit_code == 1
    # Said once, in one line: not again through pytest's own Exit report.
    assert result.output.count("DOCKER_HOST=unix:///nonexistent/docker.sock") == 1, result.output
    assert "_pytest.outcomes.Exit" not in result.output
    _no_pass_claimed(result.reports)


def test_app_that_never_answers_is_a_failure_not_a_crash(run_gate: Any) -> None:
    """A port that never opens: the wrong port in the profile."""
    result = run_gate("--suite", "deploy", "--set", "services.app.port=8999",
                      "--set", "stack.health_timeout_s=15", "--", "-k", "build_run or start")
    assert result.exit_code == 2
    # The container itself is healthy by its own HEALTHCHECK (the engine decides that); the
    # harness never gets a 200 on the profile's port, so the start time is a failure.
    assert result.verdict("FUNC-CONTAINER-BUILD-RUN") == "pass"
    assert result.verdict("PERF-CONTAINER-START") == "fail"


@pytest.fixture(autouse=True)
def _needs_engine() -> None:
    if shutil.which("docker") is None:
        pytest.fail("a container engine is required for the gate self-tests")
