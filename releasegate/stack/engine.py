"""Finding (and, where allowed, installing and starting) the container engine.

Order of candidates: ``$DOCKER_HOST``, the default socket ``/var/run/docker.sock``, then Podman's
Docker-compatible sockets (``$XDG_RUNTIME_DIR/podman/podman.sock``, ``/run/podman/podman.sock``).
An engine counts as reachable when ``ping`` answers within a few seconds. When the engine found is
not the one the Docker SDK would pick by itself, ``DOCKER_HOST`` is exported so testcontainers and
every subprocess talk to the same engine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException

from releasegate.errors import EnvironmentProblem

Progress = Callable[[str], None]

DEFAULT_SOCKET = "/var/run/docker.sock"
ROOTFUL_PODMAN_SOCKET = "/run/podman/podman.sock"
DOCKERD_LOG = Path("/var/log/releasegate-dockerd.log")
DOCKERD_PID = Path("/var/run/docker.pid")
PING_TIMEOUT_S = 3.0
START_TIMEOUT_S = 60.0
CLIENT_TIMEOUT_S = 120
NOT_REACHABLE = (
    "no Docker engine reachable (tried DOCKER_HOST, /var/run/docker.sock, podman)"
)
NOT_REACHABLE_HINT = (
    "start one or set DOCKER_HOST; as root on Debian/Ubuntu run `releasegate images` to install it"
)
TESTCONTAINERS_DEFAULTS = {
    # The reaper image (Ryuk) cannot be pulled where no registry answers; the harness labels
    # what it creates and removes it itself (`releasegate clean`).
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    # /.dockerenv makes testcontainers believe it runs in a container and pick the bridge
    # gateway as host; published ports are on 127.0.0.1.
    "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
}


@dataclass(frozen=True)
class EngineCandidate:
    source: str  # "DOCKER_HOST" | "default socket" | "podman (rootless)" | "podman"
    base_url: str


def _socket_path(base_url: str) -> str | None:
    for prefix in ("unix://", "unix:"):
        if base_url.startswith(prefix):
            return "/" + base_url[len(prefix) :].lstrip("/")
    return None


def engine_candidates(
    env: Mapping[str, str], exists: Callable[[str], bool] = os.path.exists
) -> list[EngineCandidate]:
    """Where to look for an engine, in order; sockets that do not exist are left out.

    An explicit DOCKER_HOST is the only candidate: quietly using another engine than the one
    the user named would run the stack somewhere they did not ask for (the docker CLI agrees).
    """
    found: list[EngineCandidate] = []
    host = env.get("DOCKER_HOST", "").strip()
    if host:
        return [EngineCandidate("DOCKER_HOST", host)]
    sockets = [("default socket", DEFAULT_SOCKET)]
    runtime = env.get("XDG_RUNTIME_DIR", "").strip()
    if runtime:
        sockets.append(("podman (rootless)", os.path.join(runtime, "podman", "podman.sock")))
    sockets.append(("podman", ROOTFUL_PODMAN_SOCKET))
    for source, path in sockets:
        url = f"unix://{path}"
        if exists(path) and all(c.base_url != url for c in found):
            found.append(EngineCandidate(source, url))
    return found


def _client_for(candidate: EngineCandidate, env: Mapping[str, str], timeout: float) -> Any:
    if candidate.source == "DOCKER_HOST":
        # from_env also honours DOCKER_TLS_VERIFY / DOCKER_CERT_PATH.
        return docker.from_env(environment=dict(env), timeout=int(max(1, timeout)))
    return docker.DockerClient(base_url=candidate.base_url, timeout=int(max(1, timeout)))


def probe_engine(
    candidate: EngineCandidate, env: Mapping[str, str], timeout_s: float = PING_TIMEOUT_S
) -> str | None:
    """None if the engine answers ping within ``timeout_s``; otherwise why not (one line)."""
    try:
        client = _client_for(candidate, env, timeout_s)
    except DockerException as exc:
        return _one_line(exc)
    try:
        return None if client.ping() else "ping did not answer OK"
    except Exception as exc:  # requests / socket errors surface as many types
        return _one_line(exc)
    finally:
        with contextlib.suppress(Exception):
            client.close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:159] + "…"


def os_release(path: Path = Path("/etc/os-release")) -> dict[str, str]:
    try:
        text = path.read_text()
    except OSError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def is_debian_like(release: Mapping[str, str]) -> bool:
    ids = {release.get("ID", "").lower(), *release.get("ID_LIKE", "").lower().split()}
    return bool(ids & {"debian", "ubuntu"})


def can_auto_install(release: Mapping[str, str], euid: int) -> bool:
    """Installing and starting dockerd ourselves is allowed as root on Debian/Ubuntu only."""
    return euid == 0 and is_debian_like(release)


def pid_is_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_pid_file(path: Path, alive: Callable[[int], bool] = pid_is_alive) -> bool:
    """True when ``path`` names a process that no longer exists (or holds no pid at all)."""
    try:
        text = path.read_text().strip()
    except OSError:
        return False
    try:
        pid = int(text)
    except ValueError:
        return True
    return not alive(pid)


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def install_docker(
    progress: Progress,
    *,
    which: Callable[[str], str | None] = shutil.which,
    run: Runner = subprocess.run,
) -> bool:
    """`apt-get install docker.io` unless dockerd exists. True if something was installed."""
    if which("dockerd") is not None:
        return False
    progress("installing Docker (apt-get install -y docker.io, ~1 min)…")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "docker.io"]):
        done = run(cmd, capture_output=True, text=True, env=env, check=False, timeout=1200)
        if done.returncode != 0:
            lines = [x for x in (done.stdout + done.stderr).strip().splitlines() if x.strip()]
            raise EnvironmentProblem(
                f"`{' '.join(cmd)}` failed (exit {done.returncode}): "
                + (" | ".join(lines[-3:]) or "no output"),
                hint="check that the Debian mirror is reachable, or install Docker yourself",
            )
    if which("dockerd") is None:
        raise EnvironmentProblem(
            "docker.io installed but no dockerd on PATH",
            hint="install Docker yourself and start it",
        )
    return True


def dockerd_command() -> list[str]:
    return ["dockerd"]


def start_dockerd(
    progress: Progress,
    *,
    log_path: Path = DOCKERD_LOG,
    pid_path: Path = DOCKERD_PID,
    popen: Callable[..., Any] = subprocess.Popen,
) -> Any:
    """Start dockerd detached (setsid, so it outlives this process), logging to ``log_path``."""
    if stale_pid_file(pid_path):
        progress(f"removing stale {pid_path}")
        pid_path.unlink(missing_ok=True)
    elif pid_path.exists():
        progress(f"dockerd already running ({pid_path}); waiting for it to answer…")
        return None
    progress(f"starting dockerd in the background (log: {log_path})…")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return popen(
            dockerd_command(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def _log_tail(path: Path, count: int = 3) -> str:
    try:
        lines = [x for x in path.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return "no log"
    return " | ".join(lines[-count:]) or "empty log"


def wait_for_engine(
    candidate: EngineCandidate,
    env: Mapping[str, str],
    *,
    timeout_s: float = START_TIMEOUT_S,
    process: Any = None,
    probe: Callable[[EngineCandidate, Mapping[str, str]], str | None] = probe_engine,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    log_path: Path = DOCKERD_LOG,
) -> None:
    deadline = clock() + timeout_s
    why: str | None = "not tried"
    while clock() < deadline:
        why = probe(candidate, env)
        if why is None:
            return
        if process is not None and process.poll() is not None:
            raise EnvironmentProblem(
                f"dockerd exited with code {process.returncode}: {_log_tail(log_path)}",
                hint=f"read {log_path}",
            )
        sleep(0.5)
    raise EnvironmentProblem(
        f"dockerd did not answer within {timeout_s:.0f} s ({why}): {_log_tail(log_path)}",
        hint=f"read {log_path}",
    )


def export_engine_env(candidate: EngineCandidate, env: MutableMapping[str, str]) -> None:
    """Make the SDK's defaults (testcontainers, subprocesses) find the engine we chose."""
    if candidate.source not in ("DOCKER_HOST", "default socket"):
        env["DOCKER_HOST"] = candidate.base_url


def connect_engine(
    *,
    auto_install: bool,
    progress: Progress,
    env: MutableMapping[str, str] | None = None,
    probe: Callable[[EngineCandidate, Mapping[str, str]], str | None] = probe_engine,
    exists: Callable[[str], bool] = os.path.exists,
    release: Mapping[str, str] | None = None,
    euid: int | None = None,
    installer: Callable[[Progress], object] = install_docker,
    starter: Callable[[Progress], Any] = start_dockerd,
    waiter: Callable[..., None] = wait_for_engine,
    client_factory: Callable[[EngineCandidate, Mapping[str, str]], Any] | None = None,
) -> docker.DockerClient:
    """A client for the first reachable engine; optionally install and start dockerd first.

    The keyword arguments after ``progress`` exist for tests; callers pass only the first two.
    """
    environ: MutableMapping[str, str] = os.environ if env is None else env
    make_client = client_factory or (
        lambda cand, e: _client_for(cand, e, CLIENT_TIMEOUT_S)
    )
    tried: list[str] = []
    for candidate in engine_candidates(environ, exists):
        why = probe(candidate, environ)
        if why is None:
            export_engine_env(candidate, environ)
            client: docker.DockerClient = make_client(candidate, environ)
            return client
        tried.append(f"{candidate.source}: {why}")

    detail = f" [{'; '.join(tried)}]" if tried else ""
    if not auto_install:
        raise EnvironmentProblem(NOT_REACHABLE + detail, hint=NOT_REACHABLE_HINT)
    rel = os_release() if release is None else release
    uid = os.geteuid() if euid is None else euid
    if not can_auto_install(rel, uid):
        who = "not root" if uid != 0 else f"not Debian/Ubuntu ({rel.get('ID', 'unknown')})"
        raise EnvironmentProblem(
            f"{NOT_REACHABLE}; cannot install one here ({who}){detail}",
            hint="install and start Docker or Podman yourself, or set DOCKER_HOST",
        )
    if environ.get("DOCKER_HOST", "").strip() and not environ["DOCKER_HOST"].startswith(
        ("unix:///var/run/docker.sock", "unix:///run/docker.sock")
    ):
        raise EnvironmentProblem(
            f"DOCKER_HOST={environ['DOCKER_HOST']} does not answer{detail}",
            hint="start that engine, or unset DOCKER_HOST to let releasegate start a local one",
        )
    progress("no container engine reachable; installing and starting Docker (root, Debian)…")
    installer(progress)
    process = starter(progress)
    local = EngineCandidate("default socket", f"unix://{DEFAULT_SOCKET}")
    waiter(local, environ, process=process)
    progress("Docker engine is up")
    started: docker.DockerClient = make_client(local, environ)
    return started


def engine_facts(client: docker.DockerClient) -> dict[str, str]:
    """What the report says about the engine: versions, storage driver, OS."""
    version: dict[str, Any] = client.version()
    info: dict[str, Any] = client.info()
    components = version.get("Components") or []
    names = " ".join(str(c.get("Name", "")) for c in components if isinstance(c, dict))
    product = "podman" if "podman" in names.lower() else "docker"
    return {
        "engine": product,
        "server_version": str(version.get("Version", "unknown")),
        "api_version": str(version.get("ApiVersion", "unknown")),
        "storage_driver": str(info.get("Driver", "unknown")),
        "os": str(info.get("OperatingSystem", version.get("Os", "unknown"))),
        "kernel": str(info.get("KernelVersion", version.get("KernelVersion", "unknown"))),
        "arch": str(version.get("Arch", info.get("Architecture", "unknown"))),
        "cgroup_version": str(info.get("CgroupVersion", "unknown")),
    }


def configure_testcontainers_env(
    env: MutableMapping[str, str] | None = None,
) -> dict[str, str]:
    """Set the testcontainers variables this harness relies on, unless the user set them.

    Returns the variables that were set by this call.
    """
    environ: MutableMapping[str, str] = os.environ if env is None else env
    changed: dict[str, str] = {}
    for key, value in TESTCONTAINERS_DEFAULTS.items():
        if key not in environ:
            environ[key] = value
            changed[key] = value
    return changed


def describe_candidates(candidates: Sequence[EngineCandidate]) -> str:
    return ", ".join(f"{c.source} ({c.base_url})" for c in candidates) or "none"
