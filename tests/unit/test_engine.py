"""Engine discovery and start-up decisions, with fakes (no engine is touched or installed)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from releasegate.errors import EnvironmentProblem
from releasegate.stack import engine
from releasegate.stack.engine import EngineCandidate

DEBIAN = {"ID": "debian", "VERSION_ID": "12"}
UBUNTU = {"ID": "ubuntu", "ID_LIKE": "debian"}
MINT = {"ID": "linuxmint", "ID_LIKE": "ubuntu debian"}
FEDORA = {"ID": "fedora"}


def no_progress(_: str) -> None:
    pass


class FakeWorld:
    """Records what connect_engine asks for; answers ping from a set of reachable URLs."""

    def __init__(self, reachable: set[str], sockets: set[str]) -> None:
        self.reachable = set(reachable)
        self.sockets = sockets
        self.probed: list[str] = []
        self.installed = 0
        self.started = 0
        self.waited: list[str] = []
        self.messages: list[str] = []

    def exists(self, path: str) -> bool:
        return path in self.sockets

    def probe(self, cand: EngineCandidate, env: Mapping[str, str]) -> str | None:
        self.probed.append(cand.base_url)
        return None if cand.base_url in self.reachable else "connection refused"

    def installer(self, progress: Any) -> bool:
        self.installed += 1
        return True

    def starter(self, progress: Any) -> object:
        self.started += 1
        self.reachable.add("unix:///var/run/docker.sock")
        return None

    def waiter(self, cand: EngineCandidate, env: Mapping[str, str], **_: Any) -> None:
        self.waited.append(cand.base_url)

    def connect(self, env: dict[str, str], **kwargs: Any) -> Any:
        kwargs.setdefault("auto_install", False)
        return engine.connect_engine(
            progress=self.messages.append,
            env=env,
            probe=self.probe,
            exists=self.exists,
            installer=self.installer,
            starter=self.starter,
            waiter=self.waiter,
            client_factory=lambda cand, e: f"client:{cand.base_url}",
            **kwargs,
        )


def test_explicit_docker_host_is_the_only_candidate() -> None:
    env = {"DOCKER_HOST": "tcp://10.0.0.5:2376", "XDG_RUNTIME_DIR": "/run/user/1000"}
    present = {
        "/var/run/docker.sock", "/run/user/1000/podman/podman.sock", "/run/podman/podman.sock"
    }
    got = engine.engine_candidates(env, exists=lambda p: p in present)
    assert [(c.source, c.base_url) for c in got] == [("DOCKER_HOST", "tcp://10.0.0.5:2376")]


def test_candidates_order_default_then_podman() -> None:
    env = {"XDG_RUNTIME_DIR": "/run/user/1000"}
    present = {
        "/var/run/docker.sock", "/run/user/1000/podman/podman.sock", "/run/podman/podman.sock"
    }
    got = engine.engine_candidates(env, exists=lambda p: p in present)
    assert [c.source for c in got] == ["default socket", "podman (rootless)", "podman"]
    assert got[1].base_url == "unix:///run/user/1000/podman/podman.sock"


def test_candidates_skip_missing_sockets_and_duplicates() -> None:
    env = {"DOCKER_HOST": "unix:///var/run/docker.sock"}
    got = engine.engine_candidates(env, exists=lambda p: p == "/var/run/docker.sock")
    assert [c.base_url for c in got] == ["unix:///var/run/docker.sock"]
    assert engine.engine_candidates({}, exists=lambda p: False) == []


def test_first_reachable_candidate_wins() -> None:
    world = FakeWorld({"unix:///run/podman/podman.sock"}, {"/var/run/docker.sock",
                                                          "/run/podman/podman.sock"})
    env: dict[str, str] = {}
    client = world.connect(env)
    assert client == "client:unix:///run/podman/podman.sock"
    assert world.probed == ["unix:///var/run/docker.sock", "unix:///run/podman/podman.sock"]
    # testcontainers and subprocesses must find the same engine
    assert env["DOCKER_HOST"] == "unix:///run/podman/podman.sock"


def test_default_socket_does_not_export_docker_host() -> None:
    world = FakeWorld({"unix:///var/run/docker.sock"}, {"/var/run/docker.sock"})
    env: dict[str, str] = {}
    assert world.connect(env) == "client:unix:///var/run/docker.sock"
    assert "DOCKER_HOST" not in env


def test_docker_host_tried_first() -> None:
    world = FakeWorld({"tcp://127.0.0.1:2375", "unix:///var/run/docker.sock"},
                      {"/var/run/docker.sock"})
    assert world.connect({"DOCKER_HOST": "tcp://127.0.0.1:2375"}) == "client:tcp://127.0.0.1:2375"
    assert world.probed == ["tcp://127.0.0.1:2375"]


def test_nothing_reachable_without_auto_install_raises_one_line() -> None:
    world = FakeWorld(set(), {"/var/run/docker.sock"})
    with pytest.raises(EnvironmentProblem) as info:
        world.connect({}, auto_install=False)
    text = info.value.one_line()
    assert "\n" not in text
    assert "no Docker engine reachable" in text
    assert "DOCKER_HOST" in text and "releasegate images" in text
    assert world.installed == world.started == 0


def test_auto_install_as_root_on_debian_installs_starts_and_waits() -> None:
    world = FakeWorld(set(), set())
    client = world.connect({}, auto_install=True, release=DEBIAN, euid=0)
    assert client == "client:unix:///var/run/docker.sock"
    assert (world.installed, world.started) == (1, 1)
    assert world.waited == ["unix:///var/run/docker.sock"]
    assert any("installing and starting Docker" in m for m in world.messages)


@pytest.mark.parametrize(("release", "euid"), [(DEBIAN, 1000), (FEDORA, 0), ({}, 0)])
def test_auto_install_refused_when_not_root_or_not_debian(
    release: dict[str, str], euid: int
) -> None:
    world = FakeWorld(set(), set())
    with pytest.raises(EnvironmentProblem) as info:
        world.connect({}, auto_install=True, release=release, euid=euid)
    assert "cannot install one here" in info.value.message
    assert world.installed == world.started == 0


def test_auto_install_refused_when_docker_host_points_elsewhere() -> None:
    world = FakeWorld(set(), set())
    with pytest.raises(EnvironmentProblem) as info:
        world.connect({"DOCKER_HOST": "tcp://10.1.2.3:2375"}, auto_install=True,
                      release=DEBIAN, euid=0)
    assert "DOCKER_HOST=tcp://10.1.2.3:2375" in info.value.message
    assert world.started == 0


@pytest.mark.parametrize(
    ("release", "euid", "expected"),
    [(DEBIAN, 0, True), (UBUNTU, 0, True), (MINT, 0, True), (FEDORA, 0, False),
     (DEBIAN, 1000, False)],
)
def test_can_auto_install(release: dict[str, str], euid: int, expected: bool) -> None:
    assert engine.can_auto_install(release, euid) is expected


def test_os_release_parsing(tmp_path: Path) -> None:
    path = tmp_path / "os-release"
    path.write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n# c\nID_LIKE="x y"\n')
    assert engine.os_release(path) == {
        "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "ID": "debian", "ID_LIKE": "x y"
    }
    assert engine.os_release(tmp_path / "missing") == {}


def test_install_docker_skipped_when_dockerd_exists() -> None:
    calls: list[list[str]] = []

    def run(cmd: list[str], **_: Any) -> Any:
        calls.append(cmd)
        raise AssertionError("must not run")

    assert engine.install_docker(no_progress, which=lambda n: "/usr/bin/dockerd", run=run) is False
    assert calls == []


def test_install_docker_runs_apt_and_reports_failure() -> None:
    calls: list[list[str]] = []
    installed = {"done": False}

    class Done:
        def __init__(self, code: int) -> None:
            self.returncode = code
            self.stdout = "Reading package lists..."
            self.stderr = "E: Unable to locate package docker.io" if code else ""

    def run(cmd: list[str], **kwargs: Any) -> Any:
        calls.append(cmd)
        assert kwargs["env"]["DEBIAN_FRONTEND"] == "noninteractive"
        if cmd[:2] == ["apt-get", "install"]:
            installed["done"] = True
        return Done(0)

    def which(name: str) -> str | None:
        return "/usr/sbin/dockerd" if installed["done"] else None

    assert engine.install_docker(no_progress, which=which, run=run) is True
    assert calls == [["apt-get", "update"], ["apt-get", "install", "-y", "docker.io"]]

    def failing(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 100, "Reading package lists...",
                                           "E: Unable to locate package docker.io")

    with pytest.raises(EnvironmentProblem) as info:
        engine.install_docker(no_progress, which=lambda n: None, run=failing)
    assert "apt-get update" in info.value.message and "exit 100" in info.value.message


def test_stale_pid_file_detection(tmp_path: Path) -> None:
    pid = tmp_path / "docker.pid"
    assert engine.stale_pid_file(pid) is False  # no file: nothing to clean
    pid.write_text("4242\n")
    assert engine.stale_pid_file(pid, alive=lambda p: False) is True
    assert engine.stale_pid_file(pid, alive=lambda p: True) is False
    pid.write_text("garbage")
    assert engine.stale_pid_file(pid) is True


def test_start_dockerd_removes_stale_pid_and_detaches(tmp_path: Path) -> None:
    pid = tmp_path / "docker.pid"
    pid.write_text("999999999")  # no such process
    log = tmp_path / "log" / "dockerd.log"
    seen: dict[str, Any] = {}

    def popen(cmd: list[str], **kwargs: Any) -> str:
        seen["cmd"], seen["kwargs"] = cmd, kwargs
        return "process"

    assert engine.start_dockerd(no_progress, log_path=log, pid_path=pid, popen=popen) == "process"
    assert not pid.exists()
    assert seen["cmd"] == ["dockerd"]
    assert seen["kwargs"]["start_new_session"] is True
    assert log.exists()


def test_start_dockerd_waits_for_a_live_daemon(tmp_path: Path) -> None:
    pid = tmp_path / "docker.pid"
    pid.write_text(str(__import__("os").getpid()))  # a live process

    def popen(cmd: list[str], **kwargs: Any) -> str:
        raise AssertionError("must not start a second dockerd")

    assert engine.start_dockerd(no_progress, log_path=tmp_path / "l", pid_path=pid,
                                popen=popen) is None
    assert pid.exists()


def test_wait_for_engine_times_out_with_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "dockerd.log"
    log.write_text("level=info msg=starting\nlevel=fatal msg=\"no space left on device\"\n")
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    cand = EngineCandidate("default socket", "unix:///var/run/docker.sock")
    with pytest.raises(EnvironmentProblem) as info:
        engine.wait_for_engine(cand, {}, timeout_s=5, probe=lambda c, e: "refused",
                               sleep=sleep, clock=clock, log_path=log)
    assert "did not answer within 5 s" in info.value.message
    assert "no space left on device" in info.value.message


def test_wait_for_engine_notices_a_dead_daemon(tmp_path: Path) -> None:
    class Dead:
        returncode = 1

        def poll(self) -> int:
            return 1

    cand = EngineCandidate("default socket", "unix:///var/run/docker.sock")
    with pytest.raises(EnvironmentProblem) as info:
        engine.wait_for_engine(cand, {}, process=Dead(), probe=lambda c, e: "refused",
                               sleep=lambda s: None, log_path=tmp_path / "none.log")
    assert "dockerd exited with code 1" in info.value.message


def test_wait_for_engine_returns_when_ping_answers() -> None:
    answers = iter(["refused", "refused", None])
    cand = EngineCandidate("default socket", "unix:///var/run/docker.sock")
    engine.wait_for_engine(cand, {}, probe=lambda c, e: next(answers), sleep=lambda s: None)


def test_configure_testcontainers_env_respects_user_values() -> None:
    env = {"TESTCONTAINERS_HOST_OVERRIDE": "192.168.1.5"}
    changed = engine.configure_testcontainers_env(env)
    assert changed == {"TESTCONTAINERS_RYUK_DISABLED": "true"}
    assert env == {
        "TESTCONTAINERS_HOST_OVERRIDE": "192.168.1.5",
        "TESTCONTAINERS_RYUK_DISABLED": "true",
    }
    assert engine.configure_testcontainers_env(env) == {}


def test_engine_facts_from_fake_client() -> None:
    class Client:
        def version(self) -> dict[str, Any]:
            return {"Version": "20.10.24", "ApiVersion": "1.41", "Os": "linux", "Arch": "amd64",
                    "Components": [{"Name": "Engine"}]}

        def info(self) -> dict[str, Any]:
            return {"Driver": "overlay2", "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
                    "KernelVersion": "6.1.0", "CgroupVersion": "1"}

    facts = engine.engine_facts(Client())
    assert facts["engine"] == "docker"
    assert facts["server_version"] == "20.10.24"
    assert facts["api_version"] == "1.41"
    assert facts["storage_driver"] == "overlay2"
    assert facts["os"] == "Debian GNU/Linux 12 (bookworm)"


def test_probe_engine_reports_unreachable_socket(tmp_path: Path) -> None:
    cand = EngineCandidate("default socket", f"unix://{tmp_path}/nothing.sock")
    why = engine.probe_engine(cand, {}, timeout_s=1)
    assert why is not None and "\n" not in why
