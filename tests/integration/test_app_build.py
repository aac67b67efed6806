"""Building the application image for real: rebuilding under the same tag leaves no dangling
image of ours behind, and commands run in a container keep stdout apart from stderr."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from releasegate.config.profile import BuildSpec
from releasegate.measure.commands import run_in_container
from releasegate.stack import build, engine, images, labels

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    cli = engine.connect_engine(auto_install=True, progress=print)
    yield cli
    cli.close()


@pytest.fixture(scope="module")
def base(client: docker.DockerClient) -> str:
    return str(images.ensure_image(client, images.recipe_for_python("3.11"), progress=print).tag)


def _ours(client: docker.DockerClient, role: str) -> list[str]:
    """Top-level images with the role label (a build's cached steps are not listed)."""
    return [i.id for i in client.images.list(filters={"label": f"{labels.ROLE}={role}"})]


def _remove(client: docker.DockerClient, *names: str) -> None:
    for name in names:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(name, force=True)


def test_a_rebuild_removes_the_image_it_replaces(client: docker.DockerClient, base: str,
                                                 tmp_path: Path) -> None:
    # A role of its own, so the assertion sees only this test's images.
    role = f"app-image-test-{uuid.uuid4().hex[:8]}"
    tag = f"releasegate/build-test:{uuid.uuid4().hex[:8]}"
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nCOPY version.txt /version.txt\n")
    spec = BuildSpec(context=tmp_path, dockerfile="Dockerfile", args={}, python=None,
                     ca_bundle=None)
    built: list[str] = []
    try:
        for run, version in enumerate(("1", "2")):
            (tmp_path / "version.txt").write_text(version)
            built.append(build.build_image(
                client, spec, tag=tag, build_args={},
                labels={labels.ROLE: role, labels.RUN: f"run{run}"}, progress=print).image_id)
        assert built[0] != built[1]
        dangling = [i.id for i in client.images.list(
            filters={"dangling": True, "label": f"{labels.ROLE}={role}"})]
        assert dangling == []
        assert _ours(client, role) == [built[1]]
    finally:
        _remove(client, *reversed(built))


def test_a_rebuild_removes_the_build_stage_it_replaces(client: docker.DockerClient, base: str,
                                                       tmp_path: Path) -> None:
    role = f"app-image-test-{uuid.uuid4().hex[:8]}"
    tag = f"releasegate/build-test:{uuid.uuid4().hex[:8]}"
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base} AS build\nCOPY version.txt /v\nRUN cp /v /v2\n"
        f"FROM {base}\nCOPY --from=build /v2 /v2\n")
    spec = BuildSpec(context=tmp_path, dockerfile="Dockerfile", args={}, python=None,
                     ca_bundle=None)
    finals: list[str] = []
    stages: list[str] = []
    try:
        for version in ("1", "2"):
            (tmp_path / "version.txt").write_text(version)
            finals.append(build.build_image(client, spec, tag=tag, build_args={},
                                            labels={labels.ROLE: role}, progress=print).image_id)
            stages.append(str(client.images.get(f"{tag}-stage0").id))
        assert stages[0] != stages[1]
        with pytest.raises(docker.errors.ImageNotFound):
            client.images.get(stages[0])  # the replaced build stage is gone, not dangling
        with pytest.raises(docker.errors.ImageNotFound):
            client.images.get(finals[0])
    finally:
        _remove(client, tag, f"{tag}-stage0")


def test_an_image_still_in_use_is_kept(client: docker.DockerClient, base: str,
                                       tmp_path: Path) -> None:
    role = f"app-image-test-{uuid.uuid4().hex[:8]}"
    tag = f"releasegate/build-test:{uuid.uuid4().hex[:8]}"
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nCOPY version.txt /version.txt\n")
    spec = BuildSpec(context=tmp_path, dockerfile="Dockerfile", args={}, python=None,
                     ca_bundle=None)
    (tmp_path / "version.txt").write_text("1")
    first = build.build_image(client, spec, tag=tag, build_args={},
                              labels={labels.ROLE: role}, progress=print).image_id
    user = client.containers.create(first, ["true"], labels={"releasegate.test": "1"})
    second = ""
    try:
        (tmp_path / "version.txt").write_text("2")
        second = build.build_image(client, spec, tag=tag, build_args={},
                                   labels={labels.ROLE: role}, progress=print).image_id
        assert sorted(_ours(client, role)) == sorted([first, second])
    finally:
        user.remove(force=True)
        _remove(client, *(i for i in (second, first) if i))


def test_commands_keep_stdout_and_stderr_apart(client: docker.DockerClient, base: str) -> None:
    container = client.containers.run(base, ["sleep", "60"], detach=True,
                                      labels={"releasegate.test": "1"})
    try:
        result = run_in_container(
            container, ["sh", "-c", 'echo "INFO migrating" >&2; echo "$REVISION"'],
            env={"REVISION": "0002_head"})
        assert result.ok
        assert result.stdout == "0002_head\n"
        assert result.stderr == "INFO migrating\n"
    finally:
        container.remove(force=True)
