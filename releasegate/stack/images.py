"""Provisioning of the base images a stack needs: reuse, pull, or build offline from Debian.

For every :class:`ImageRecipe` the order is:

1. **local** — an image with the recipe's tag whose label ``releasegate.recipe`` equals the recipe
   hash is reused as it is; a different hash (recipe changed) means rebuild;
2. **pulled** — the official upstream image (``postgres:15-bookworm``,
   ``python:3.11-slim-bookworm``) is used if present or pulled if a registry answers (tried once;
   a network error marks the registry offline for the rest of the process), and a thin layer adds
   what the recipe promises (our PostgreSQL entrypoint, postgresql-client in the Python image, the
   recipe label);
3. **built-offline** — otherwise the image is built from a Debian mirror with debootstrap and
   imported, with the same contents and the same contract.

Whatever the path, the result carries the recipe's tag, so the rest of the harness refers to one
name, e.g. ``releasegate/postgres:15-bookworm``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import queue
import re
import shutil
import tarfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import docker
from docker.errors import APIError, BuildError, DockerException, ImageNotFound

from releasegate.errors import ConfigError, EnvironmentProblem
from releasegate.stack import rootfs

Kind = Literal["postgres", "python"]
Suite = Literal["bullseye", "bookworm", "trixie", "forky"]
How = Literal["local", "pulled", "built-offline"]
Progress = Callable[[str], None]

# Bump when the way images are built changes, so every cached image is rebuilt.
RECIPE_FORMAT = 3
LABEL_RECIPE = "releasegate.recipe"
LABEL_ORIGIN = "releasegate.origin"
LABEL_FACT = "releasegate.fact."
IMAGEFILES = Path(__file__).resolve().parent / "imagefiles"
ENTRYPOINT_FILE = IMAGEFILES / "docker-entrypoint.sh"
# Shared by every user of the machine (mode 1777); lock files are opened read-only.
LOCK_DIR = Path("/var/tmp/releasegate-locks")  # noqa: S108
PULL_ANSWER_TIMEOUT_S = 20.0
PULL_TOTAL_TIMEOUT_S = 15 * 60.0
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PGDATA = "/var/lib/postgresql/data"
# uid:gid of the postgres user in the official image, kept so volumes move between the two.
POSTGRES_IDS = (999, 999)


@dataclass(frozen=True)
class DebianRelease:
    suite: Suite
    python: str
    postgres: int
    # Official images are published for released suites only; forky uses trixie's.
    upstream_suite: str


DEBIAN_RELEASES: tuple[DebianRelease, ...] = (
    DebianRelease("bullseye", "3.9", 13, "bullseye"),
    DebianRelease("bookworm", "3.11", 15, "bookworm"),
    DebianRelease("trixie", "3.13", 17, "trixie"),
    DebianRelease("forky", "3.14", 18, "trixie"),
)


@dataclass(frozen=True)
class ImageRecipe:
    """What an image contains and how it behaves; its hash decides whether a cached one fits."""

    name: str
    kind: Kind
    debian_suite: Suite
    upstream: str
    packages: tuple[str, ...]
    version: str
    env: tuple[tuple[str, str], ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    expose: tuple[int, ...] = ()
    stop_signal: str = ""

    @property
    def repository(self) -> str:
        return split_reference(self.name)[0]

    @property
    def tag(self) -> str:
        return split_reference(self.name)[1]

    def files(self) -> dict[str, Path]:
        """Files copied into the image: path inside the image -> file in this package."""
        if self.kind == "postgres":
            return {"/usr/local/bin/docker-entrypoint.sh": ENTRYPOINT_FILE}
        return {}

    def recipe_hash(self) -> str:
        """Hash of everything that shapes the image (fields, copied files, build procedure)."""
        payload: dict[str, Any] = {"format": RECIPE_FORMAT, **asdict(self)}
        payload["files"] = {
            dest: hashlib.sha256(src.read_bytes()).hexdigest()
            for dest, src in sorted(self.files().items())
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def changes(self) -> list[str]:
        """Dockerfile instructions (``docker import --change``) giving the image its config."""
        out = [f"ENV {key}={value}" for key, value in self.env]
        if self.entrypoint:
            out.append(f"ENTRYPOINT {json.dumps(list(self.entrypoint))}")
        if self.cmd:
            out.append(f"CMD {json.dumps(list(self.cmd))}")
        out += [f"EXPOSE {port}" for port in self.expose]
        if self.stop_signal:
            out.append(f"STOPSIGNAL {self.stop_signal}")
        return out


@dataclass(frozen=True)
class ProvisionedImage:
    tag: str
    image_id: str
    how: How
    seconds: float
    facts: dict[str, str] = field(default_factory=dict)
    recipe_hash: str = ""

    @property
    def source(self) -> How:
        """Same as ``how``: "local", "pulled" or "built-offline"."""
        return self.how


def split_reference(reference: str) -> tuple[str, str]:
    """'postgres:15-bookworm' -> ('postgres', '15-bookworm'); no tag -> 'latest'."""
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, "latest"


def _release_by(predicate: Callable[[DebianRelease], bool]) -> DebianRelease | None:
    return next((rel for rel in DEBIAN_RELEASES if predicate(rel)), None)


def recipe_for_postgres(major: int) -> ImageRecipe:
    """The PostgreSQL ``major`` image, built from the Debian suite that ships that version."""
    rel = _release_by(lambda r: r.postgres == major)
    if rel is None:
        supported = ", ".join(f"{r.postgres} ({r.suite})" for r in DEBIAN_RELEASES)
        raise ConfigError(
            f"PostgreSQL {major} is not supported",
            hint=f"use one of: {supported}",
        )
    return ImageRecipe(
        name=f"releasegate/postgres:{major}-{rel.suite}",
        kind="postgres",
        debian_suite=rel.suite,
        upstream=f"postgres:{major}-{rel.upstream_suite}",
        packages=(f"postgresql-{major}", "openssl", "util-linux"),
        version=str(major),
        env=(
            ("PATH", f"/usr/lib/postgresql/{major}/bin:{BASE_PATH}"),
            ("LANG", "C.UTF-8"),
            ("PG_MAJOR", str(major)),
            ("PGDATA", PGDATA),
        ),
        entrypoint=("docker-entrypoint.sh",),
        cmd=("postgres",),
        expose=(5432,),
        stop_signal="SIGINT",
    )


def recipe_for_python(version: str) -> ImageRecipe:
    """The Python ``version`` ("3.11") image with venv, pip and the suite's postgresql-client."""
    wanted = version.strip()
    rel = _release_by(lambda r: r.python == wanted)
    if rel is None:
        supported = ", ".join(f"{r.python} ({r.suite})" for r in DEBIAN_RELEASES)
        raise ConfigError(
            f"Python {version} is not supported",
            hint=f"use one of: {supported}",
        )
    return ImageRecipe(
        name=f"releasegate/python:{wanted}-{rel.suite}",
        kind="python",
        debian_suite=rel.suite,
        upstream=f"python:{wanted}-slim-{rel.upstream_suite}",
        packages=("python3", "python3-venv", "python3-pip", "postgresql-client", "ca-certificates"),
        version=wanted,
        env=(("PATH", BASE_PATH), ("LANG", "C.UTF-8")),
        cmd=("python3",),
    )


# --- cache -------------------------------------------------------------------------------------

CacheDecision = Literal["reuse", "rebuild", "absent"]


def cache_decision(labels: Mapping[str, str] | None, recipe_hash: str) -> CacheDecision:
    """``labels`` of the image carrying the recipe's tag (None: no such image)."""
    if labels is None:
        return "absent"
    return "reuse" if labels.get(LABEL_RECIPE) == recipe_hash else "rebuild"


def _image_labels(image: Any) -> dict[str, str]:
    labels = image.attrs.get("Config", {}).get("Labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def _get_image(client: docker.DockerClient, reference: str) -> Any | None:
    try:
        return client.images.get(reference)
    except ImageNotFound:
        return None
    except APIError as exc:
        if exc.status_code == 404:
            return None
        raise


def facts_from_labels(labels: Mapping[str, str]) -> dict[str, str]:
    return {k[len(LABEL_FACT) :]: v for k, v in labels.items() if k.startswith(LABEL_FACT)}


# --- registry ----------------------------------------------------------------------------------

_OFFLINE_MARKERS = (
    "no such host",
    "dial tcp",
    "lookup ",
    "connection refused",
    "network is unreachable",
    "no route to host",
    "i/o timeout",
    "tls handshake timeout",
    "timeout exceeded",
    "context deadline exceeded",
    "temporary failure in name resolution",
    "server misbehaving",
    "connection reset",
    "proxyconnect",
    "did not answer",
)


class _RegistryState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.offline_reason: str | None = None


_REGISTRY = _RegistryState()


def is_offline_error(message: str) -> bool:
    """True when a pull failed because no registry could be reached at all."""
    text = message.lower()
    return any(marker in text for marker in _OFFLINE_MARKERS)


def registry_offline() -> str | None:
    """Why the registry is considered unreachable in this process (None: not known to be)."""
    with _REGISTRY.lock:
        return _REGISTRY.offline_reason


def mark_registry_offline(reason: str) -> None:
    with _REGISTRY.lock:
        if _REGISTRY.offline_reason is None:
            _REGISTRY.offline_reason = reason


def reset_registry_state() -> None:
    with _REGISTRY.lock:
        _REGISTRY.offline_reason = None


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def try_pull(
    client: docker.DockerClient,
    reference: str,
    progress: Progress,
    *,
    answer_timeout_s: float = PULL_ANSWER_TIMEOUT_S,
    total_timeout_s: float = PULL_TOTAL_TIMEOUT_S,
) -> bool:
    """Pull ``reference`` once. False (and the registry remembered as offline) when unreachable.

    The engine must answer within ``answer_timeout_s``; a pull that has started may take longer.
    """
    reason = registry_offline()
    if reason is not None:
        return False
    repo, tag = split_reference(reference)
    progress(f"pulling {reference}…")
    messages: queue.Queue[tuple[str, Any]] = queue.Queue()

    def worker() -> None:
        try:
            for msg in client.api.pull(repo, tag=tag, stream=True, decode=True):
                messages.put(("msg", msg))
            messages.put(("done", None))
        except Exception as exc:  # handed to the waiting thread
            messages.put(("error", exc))

    threading.Thread(target=worker, name=f"pull {reference}", daemon=True).start()
    deadline = time.monotonic() + total_timeout_s
    timeout = answer_timeout_s
    while True:
        try:
            wait = max(0.1, min(timeout, deadline - time.monotonic()))
            what, payload = messages.get(timeout=wait)
        except queue.Empty:
            answered = timeout != answer_timeout_s
            text = "pull timed out" if answered else f"registry did not answer in {timeout:.0f} s"
            if not answered:
                mark_registry_offline(text)
            progress(f"{reference}: {text}; building offline instead")
            return False
        timeout = total_timeout_s
        if what == "done":
            progress(f"pulled {reference}")
            return True
        if what == "msg" and isinstance(payload, dict) and "error" not in payload:
            continue
        if isinstance(payload, dict):
            detail = _first_line(str(payload.get("error", "")))
        else:
            detail = docker_error_text(payload)
        if is_offline_error(detail):
            mark_registry_offline(detail)
            progress(f"no registry reachable ({detail}); building images offline")
        else:
            progress(f"could not pull {reference} ({detail}); building offline instead")
        return False


# --- locking -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _image_lock(name: str) -> Iterator[None]:
    """Serialise provisioning of one tag between processes (xdist workers, parallel runs)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    fd = -1
    try:
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            LOCK_DIR.chmod(0o1777)
        fd = os.open(LOCK_DIR / f"{safe}.lock", os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        fd = -1
    try:
        yield
    finally:
        if fd >= 0:
            os.close(fd)


# --- building ----------------------------------------------------------------------------------


def _label_changes(labels: Mapping[str, str]) -> list[str]:
    return [f"LABEL {key}={json.dumps(value)}" for key, value in sorted(labels.items())]


def _recipe_labels(recipe: ImageRecipe, origin: str, facts: Mapping[str, str]) -> dict[str, str]:
    labels = {LABEL_RECIPE: recipe.recipe_hash(), LABEL_ORIGIN: origin}
    labels.update({f"{LABEL_FACT}{k}": v for k, v in facts.items()})
    return labels


def rootfs_facts(recipe: ImageRecipe, versions: Mapping[str, str]) -> dict[str, str]:
    """Versions worth reporting, from the dpkg database of a built root filesystem."""
    facts: dict[str, str] = {"debian_suite": recipe.debian_suite}
    if recipe.kind == "python":
        exact = versions.get(f"python{recipe.version}") or versions.get("python3", "")
        facts["python_version"] = rootfs.upstream_version(exact) if exact else "unknown"
        client = next((v for k, v in versions.items() if k.startswith("postgresql-client-")), "")
        facts["pg_client_version"] = rootfs.upstream_version(client) if client else "unknown"
    else:
        server = versions.get(f"postgresql-{recipe.version}", "")
        facts["postgres_version"] = rootfs.upstream_version(server) if server else "unknown"
        openssl = versions.get("openssl", "")
        facts["openssl_version"] = rootfs.upstream_version(openssl) if openssl else "unknown"
    facts["packages"] = " ".join(
        f"{name}={versions[name]}" for name in recipe.packages if name in versions
    )
    return facts


def _customise_python(recipe: ImageRecipe, root: Path) -> None:
    # Like the official image: `pip install` works system-wide, `python` and `pip` exist.
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    local_bin = root / "usr/local/bin"
    local_bin.mkdir(parents=True, exist_ok=True)
    for link, target in (("python", "/usr/bin/python3"), ("pip", "/usr/bin/pip3")):
        if (root / target.lstrip("/")).exists() and not (local_bin / link).exists():
            (local_bin / link).symlink_to(target)
    if not (root / f"usr/bin/python{recipe.version}").exists():
        raise EnvironmentProblem(
            f"the {recipe.debian_suite} root filesystem has no python{recipe.version}",
            hint="check the recipe's Debian suite",
        )


def _customise_postgres(recipe: ImageRecipe, root: Path) -> None:
    major = recipe.version
    bindir = root / f"usr/lib/postgresql/{major}/bin"
    for tool in ("initdb", "postgres", "pg_ctl"):
        if not (bindir / tool).exists():
            raise EnvironmentProblem(
                f"postgresql-{major} in Debian {recipe.debian_suite} has no {tool}",
                hint="check the recipe's Debian suite",
            )
    if not (root / "usr/bin/openssl").exists() or not (root / "usr/bin/setpriv").exists():
        raise EnvironmentProblem(
            f"the {recipe.debian_suite} root filesystem lacks openssl or setpriv",
            hint="check the recipe's package list",
        )
    # The packages create a cluster "main" on installation: the entrypoint makes its own.
    shutil.rmtree(root / f"etc/postgresql/{major}/main", ignore_errors=True)
    shutil.rmtree(root / f"var/lib/postgresql/{major}/main", ignore_errors=True)
    conf = root / "etc/postgresql-common/createcluster.conf"
    if conf.is_file():
        text = conf.read_text()
        text = re.sub(r"^#?\s*create_main_cluster\s*=.*$", "create_main_cluster = false",
                      text, flags=re.MULTILINE)
        conf.write_text(text)
    rootfs.renumber_user(root, "postgres", *POSTGRES_IDS)
    ids = rootfs.passwd_ids(root, "postgres")
    if ids is None:
        raise EnvironmentProblem("the postgres user is missing from the root filesystem",
                                 hint="check the recipe's package list")
    for dest, src in recipe.files().items():
        target = root / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        target.chmod(0o755)
    (root / "docker-entrypoint-initdb.d").mkdir(mode=0o755, exist_ok=True)
    for path, mode in ((root / PGDATA.lstrip("/"), 0o700), (root / "run/postgresql", 0o3777)):
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, *ids)
        path.chmod(mode)


# Instructions `docker import --change` accepts on every engine version (STOPSIGNAL, HEALTHCHECK
# came later); anything else is applied by a metadata-only build on top of the imported image.
IMPORT_CHANGE_KEYWORDS = frozenset(
    {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR"}
)


def split_changes(changes: Iterable[str]) -> tuple[list[str], list[str]]:
    """(instructions `docker import` applies, instructions needing a build step)."""
    direct: list[str] = []
    later: list[str] = []
    for change in changes:
        keyword = change.split(None, 1)[0].upper()
        (direct if keyword in IMPORT_CHANGE_KEYWORDS else later).append(change)
    return direct, later


def docker_error_text(exc: BaseException) -> str:
    """The engine's own explanation when there is one, else the first line of the error."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return _first_line(str(explanation))
    return _first_line(str(exc))


def _tar_context(files: Mapping[str, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644 if name == "Dockerfile" else 0o755
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def _import_rootfs(
    client: docker.DockerClient, recipe: ImageRecipe, tarball: Path, labels: Mapping[str, str]
) -> None:
    direct, later = split_changes(recipe.changes() + _label_changes(labels))
    hint = "check free space in the engine's data root (docker system df)"
    try:
        if later:
            result = client.api.import_image_from_file(str(tarball), changes=direct)
        else:
            result = client.api.import_image_from_file(
                str(tarball), repository=recipe.repository, tag=recipe.tag, changes=direct
            )
    except DockerException as exc:
        raise EnvironmentProblem(
            f"docker import of {recipe.name} failed: {docker_error_text(exc)}", hint=hint
        ) from exc
    image_id = ""
    for line in str(result).splitlines():
        with contextlib.suppress(ValueError):
            msg = json.loads(line)
            if isinstance(msg, dict) and msg.get("error"):
                raise EnvironmentProblem(
                    f"docker import of {recipe.name} failed: {_first_line(str(msg['error']))}",
                    hint=hint,
                )
            if isinstance(msg, dict) and str(msg.get("status", "")).startswith("sha256:"):
                image_id = str(msg["status"]).strip()
    if not later:
        return
    if not image_id:
        raise EnvironmentProblem(f"docker import of {recipe.name} returned no image id: {result}",
                                 hint=hint)
    dockerfile = "\n".join([f"FROM {image_id}", *later]) + "\n"
    try:
        client.images.build(
            fileobj=_tar_context({"Dockerfile": dockerfile.encode()}), custom_context=True,
            tag=recipe.name, rm=True, forcerm=True, pull=False,
        )
    except (BuildError, DockerException) as exc:
        raise EnvironmentProblem(
            f"finishing {recipe.name} ({'; '.join(later)}) failed: {docker_error_text(exc)}",
            hint=hint,
        ) from exc


def build_offline(
    client: docker.DockerClient, recipe: ImageRecipe, progress: Progress
) -> dict[str, str]:
    """Build ``recipe`` from the Debian mirror and import it; returns the facts recorded on it."""
    mirror = rootfs.debian_mirror()
    progress(
        f"building image {recipe.name} from Debian {recipe.debian_suite} "
        f"(debootstrap from {mirror}, ~60 s)…"
    )
    if not rootfs.is_root():
        raise EnvironmentProblem(
            f"building {recipe.name} offline needs root (debootstrap) and no registry gave it",
            hint="run `releasegate images` as root once, or make the registry reachable",
        )
    rootfs.ensure_debootstrap(progress)
    with rootfs.build_workspace(recipe.name) as work:
        started = time.monotonic()
        root = rootfs.bootstrap(
            recipe.debian_suite, recipe.packages, work, progress, mirror=mirror, label=recipe.name
        )
        seconds = time.monotonic() - started
        (root / "etc/apt/sources.list").write_text(rootfs.sources_list(
            recipe.debian_suite, mirror, security=rootfs.debian_security_mirror()))
        if recipe.kind == "python":
            _customise_python(recipe, root)
        else:
            _customise_postgres(recipe, root)
        facts = rootfs_facts(recipe, rootfs.installed_versions(root))
        rootfs.slim_rootfs(root)
        tarball = work / "rootfs.tar"
        rootfs.pack_rootfs(root, tarball)
        rootfs.remove_tree(root)
        progress(
            f"{recipe.name}: root filesystem ready in {seconds:.0f} s "
            f"({tarball.stat().st_size / 1024**2:.0f} MB); importing…"
        )
        _import_rootfs(client, recipe, tarball, _recipe_labels(recipe, "built-offline", facts))
    return facts


def derived_dockerfile(recipe: ImageRecipe, base: str) -> str:
    """Dockerfile adding to an official image what the recipe promises beyond it."""
    lines = [f"FROM {base}"]
    apt = "apt-get update && apt-get install -y --no-install-recommends {pkgs} " \
          "&& rm -rf /var/lib/apt/lists/*"
    if recipe.kind == "python":
        lines.append("RUN set -eux; " + apt.format(pkgs="postgresql-client ca-certificates"))
    else:
        lines.append(
            "RUN set -eux; command -v openssl >/dev/null || { "
            + apt.format(pkgs="openssl")
            + "; }"
        )
        for dest in recipe.files():
            name = Path(dest).name
            lines.append(f"COPY {name} {dest}")
            lines.append(f"RUN chmod 755 {dest}")
        lines.append("RUN mkdir -p /docker-entrypoint-initdb.d")
    lines += recipe.changes()
    return "\n".join(lines) + "\n"


def _build_context(recipe: ImageRecipe, base: str) -> io.BytesIO:
    files = {"Dockerfile": derived_dockerfile(recipe, base).encode()}
    for dest, src in recipe.files().items():
        files[Path(dest).name] = src.read_bytes()
    return _tar_context(files)


_VERSION_ONLY = "sed 's/^[^0-9]*//; s/ .*//'"
_PROBE = {
    "python": "echo python_version=$(python3 -c"
    " 'import platform; print(platform.python_version())');"
    f" echo pg_client_version=$(pg_dump --version | {_VERSION_ONLY})",
    "postgres": f"echo postgres_version=$(postgres --version | {_VERSION_ONLY});"
    " echo openssl_version=$(openssl version | cut -d' ' -f2)",
}


def probe_facts(client: docker.DockerClient, tag: str, kind: Kind) -> dict[str, str]:
    """Versions read by running the image once (for images not built here)."""
    try:
        out = client.containers.run(
            tag, ["-c", _PROBE[kind]], entrypoint=["/bin/sh"], remove=True,
            network_disabled=True, labels={"releasegate.probe": "1"},
        )
    except DockerException as exc:
        return {"probe_error": docker_error_text(exc)}
    facts: dict[str, str] = {}
    for line in cast(bytes, out).decode(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and value.strip():
            facts[key.strip()] = value.strip()
    return facts


def build_from_upstream(
    client: docker.DockerClient, recipe: ImageRecipe, base: str, progress: Progress, origin: str
) -> dict[str, str]:
    """Add the recipe's layer on an official image; returns facts read from the result."""
    progress(f"building {recipe.name} on top of {base}…")
    labels = _recipe_labels(recipe, origin, {"debian_suite": recipe.debian_suite})
    try:
        client.images.build(
            fileobj=_build_context(recipe, base), custom_context=True, tag=recipe.name,
            labels=labels, rm=True, forcerm=True, pull=False,
        )
    except (BuildError, DockerException) as exc:
        raise EnvironmentProblem(
            f"building {recipe.name} on {base} failed: {docker_error_text(exc)}",
            hint="the Debian mirror must be reachable from containers",
        ) from exc
    return {"debian_suite": recipe.debian_suite, **probe_facts(client, recipe.name, recipe.kind)}


def ensure_image(
    client: docker.DockerClient,
    recipe: ImageRecipe,
    *,
    progress: Progress,
    allow_pull: bool = True,
) -> ProvisionedImage:
    """Make ``recipe.name`` exist locally and match the recipe: reuse, pull, or build offline."""
    started = time.monotonic()
    wanted = recipe.recipe_hash()
    with _image_lock(recipe.name):
        image = _get_image(client, recipe.name)
        labels = _image_labels(image) if image is not None else None
        decision = cache_decision(labels, wanted)
        if image is not None and labels is not None and decision == "reuse":
            facts = facts_from_labels(labels)
            if set(facts) <= {"debian_suite"}:
                facts.update(probe_facts(client, recipe.name, recipe.kind))
            return ProvisionedImage(
                recipe.name, str(image.id), "local", time.monotonic() - started, facts, wanted
            )
        if decision == "rebuild":
            have = (labels or {}).get(LABEL_RECIPE, "none")
            progress(f"{recipe.name}: recipe changed ({have} -> {wanted}); rebuilding")

        how: How = "built-offline"
        facts = {}
        base_how: How | None = None
        if _get_image(client, recipe.upstream) is not None:
            base_how = "local"
        elif allow_pull and try_pull(client, recipe.upstream, progress):
            base_how = "pulled"
        if base_how is not None:
            try:
                facts = build_from_upstream(
                    client, recipe, recipe.upstream, progress, f"{base_how}:{recipe.upstream}"
                )
                how = base_how
            except EnvironmentProblem as exc:
                progress(f"{exc.message}; building offline instead")
        if how == "built-offline":
            facts = build_offline(client, recipe, progress)
        built = _get_image(client, recipe.name)
        if built is None:
            raise EnvironmentProblem(
                f"{recipe.name} is missing right after it was built",
                hint="check `docker images` and the engine's log",
            )
        seconds = time.monotonic() - started
        progress(f"{recipe.name} ready ({how}, {seconds:.0f} s)")
        return ProvisionedImage(recipe.name, str(built.id), how, seconds, facts, wanted)


def build_all(
    client: docker.DockerClient,
    recipes: Iterable[ImageRecipe],
    progress: Progress,
    *,
    allow_pull: bool = True,
    workers: int = 1,
) -> list[ProvisionedImage]:
    """Provision every recipe (duplicates once); used by `releasegate images`.

    With ``workers`` > 1, Debian suites build side by side (most of a build waits on the
    mirror or on dpkg); the images of one suite build one after the other, sharing its package
    cache. The result is in the order given."""
    unique: dict[str, ImageRecipe] = {}
    for recipe in recipes:
        unique.setdefault(recipe.name, recipe)
    by_suite: dict[str, list[ImageRecipe]] = {}
    for recipe in unique.values():
        by_suite.setdefault(recipe.debian_suite, []).append(recipe)

    def suite_chain(chain: list[ImageRecipe]) -> list[ProvisionedImage]:
        return [ensure_image(client, r, progress=progress, allow_pull=allow_pull) for r in chain]

    if workers <= 1 or len(by_suite) <= 1:
        done = [image for chain in by_suite.values() for image in suite_chain(chain)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="image") as pool:
            chains = list(pool.map(suite_chain, by_suite.values()))
        done = [image for chain in chains for image in chain]
    order = list(unique)
    return sorted(done, key=lambda image: order.index(image.tag))
