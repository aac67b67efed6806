"""SEC-CONTAINER-HARDENING logic over docker-inspect documents and hadolint's report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from releasegate.measure.security.hardening import (
    count_instructions,
    env_secret_findings,
    inspect_findings,
    run_hadolint,
)
from releasegate.measure.security.support import ToolFailed, split_by_floor

HEALTHY_IMAGE = {"RepoTags": ["app:1"], "Config": {
    "Healthcheck": {"Test": ["CMD", "true"]}, "Env": ["PATH=/usr/bin", "APP_PORT=8000"]}}


def container(**host: Any) -> dict[str, Any]:
    mounts = host.pop("Mounts", [])
    return {"Name": "/app-1", "HostConfig": host, "Mounts": mounts, "Config": {}}


def rules(found: list[Any]) -> list[str]:
    return sorted(f.rule for f in found)


def test_a_plain_hardened_container_has_no_finding() -> None:
    found, checks = inspect_findings(container(), HEALTHY_IMAGE, role="app",
                                     read_only_rootfs=False, allowed_caps=(), app=True)
    assert found == [] and "no-healthcheck" in checks and "privileged" in checks


def test_every_weakness_is_its_own_finding() -> None:
    image = {"RepoTags": ["app:1"], "Config": {"Healthcheck": {"Test": ["NONE"]},
                                               "Env": ["APP_SECRET_KEY=hunter2hunter2"]}}
    weak = container(Privileged=True, CapAdd=["NET_ADMIN", "CAP_NET_BIND_SERVICE"],
                     NetworkMode="host", ReadonlyRootfs=False,
                     Mounts=[{"Source": "/var/run/docker.sock", "Destination": "/d.sock"}])
    found, _ = inspect_findings(weak, image, role="app", read_only_rootfs=True,
                                allowed_caps=("NET_BIND_SERVICE",), app=True)
    assert rules(found) == ["capabilities-added", "docker-socket-mounted", "host-namespaces",
                            "no-healthcheck", "privileged", "secret-in-image-env",
                            "writable-root-filesystem"]
    caps = next(f for f in found if f.rule == "capabilities-added")
    assert "NET_ADMIN" in caps.evidence and "NET_BIND_SERVICE']" in caps.evidence
    secret = next(f for f in found if f.rule == "secret-in-image-env")
    assert "hunter2" not in secret.evidence + secret.title  # evidence never repeats a secret
    assert all(f.owasp.startswith("API8:2023") for f in found)


def test_the_database_container_is_not_judged_on_the_apps_image() -> None:
    found, checks = inspect_findings(container(), {"Config": {}}, role="db",
                                     read_only_rootfs=False, allowed_caps=(), app=False)
    assert found == [] and "no-healthcheck" not in checks


@pytest.mark.parametrize(("entry", "flagged"), [
    ("DB_PASSWORD=s3cr3t-value", True),
    ("API_KEY=abc", True),
    ("DATABASE_URL=postgresql://app:pw@db/app", True),
    ("DB_PASSWORD_FILE=/run/secrets/db", False),
    ("RENTO_SECRET_KEY=", False),
    ("TOKEN_TTL_SECONDS=3600", False),
    ("AUTH_TOKEN=true", False),
    ("PATH=/usr/bin", False),
    ("DATABASE_URL=postgresql://db/app", False),
])
def test_secret_looking_env(entry: str, flagged: bool) -> None:
    found = env_secret_findings([entry], criterion="SEC-SECRETS-ENV", where="image x",
                                reproduction="docker image inspect x")
    assert bool(found) is flagged


def test_hadolint_errors_count_and_the_rest_is_listed(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nWORKDIR app\n# note\nRUN echo a \\\n  b\n"
                          "RUN echo c\n")
    findings, instructions = run_hadolint(dockerfile, label="app/Dockerfile")
    counted, listed = split_by_floor(findings, "high")
    assert [(f.rule, f.location) for f in counted] == [("DL3000", "app/Dockerfile:2")]
    assert listed and all(f.severity in ("low", "info") for f in listed)
    assert instructions == 4
    with pytest.raises(ToolFailed, match="does not exist"):
        run_hadolint(tmp_path / "missing", label="x")


def test_instructions_are_counted_without_continuations_and_comments() -> None:
    assert count_instructions("FROM a\n# c\nRUN x \\\n  && y \\\n  && z\nCMD [\"q\"]\n") == 3
