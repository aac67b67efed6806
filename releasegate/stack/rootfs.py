"""Root filesystems built from a Debian mirror with debootstrap, for images no registry can give us.

Everything here works on a directory on the host: the debootstrap command line, running it with a
log, trimming the result, reading package versions from the dpkg database and packing a tarball for
`docker import`. Nothing here talks to the container engine (see ``images.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import lzma
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from releasegate.errors import EnvironmentProblem
from releasegate.stack import apt_sources

MIRROR_ENV = "RELEASEGATE_DEBIAN_MIRROR"
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")
DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# Build directories are made with mkdtemp (private, unpredictable names).
BUILD_PARENT = Path("/var/tmp")  # noqa: S108
MIN_FREE_BYTES = 2 * 1024**3
DEBOOTSTRAP_TIMEOUT_S = 20 * 60
LOG_TAIL_LINES = 15

# Suites debootstrap knows under their own name on an older host fall back to the sid script.
_SID_SCRIPT = "sid"
# Suites that have a security archive (testing/unstable have none worth listing).
_SECURITY_SUITES = frozenset({"bullseye", "bookworm", "trixie"})
# debootstrap lines worth showing the user while it runs (the rest goes to the log only).
_MILESTONES = (
    "I: Retrieving Release",
    "I: Retrieving Packages",
    "I: Unpacking the base system",
    "I: Configuring the base system",
    "I: Base system installed successfully",
)

Progress = Callable[[str], None]
Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def debian_mirror(
    env: Mapping[str, str] | None = None, apt_dir: Path = apt_sources.APT_DIR
) -> str:
    """The Debian mirror to bootstrap from: $RELEASEGATE_DEBIAN_MIRROR, else the archive the
    host's own apt sources name. The harness knows no mirror of its own to fall back on."""
    environ = os.environ if env is None else env
    value = environ.get(MIRROR_ENV, "").strip()
    if value:
        return value.rstrip("/")
    found = apt_sources.debian_archive(apt_sources.read_sources(apt_dir))
    if found is None:
        raise EnvironmentProblem(
            f"no Debian mirror to build images from: {MIRROR_ENV} is not set and the apt "
            f"sources in {apt_dir} name no Debian archive",
            hint=f"set {MIRROR_ENV} to the URL of a Debian mirror (http://HOST/debian)",
        )
    return found


def debian_security_mirror(apt_dir: Path = apt_sources.APT_DIR) -> str | None:
    """The security archive the host's apt sources name, if any: images get the same one."""
    return apt_sources.debian_security_archive(apt_sources.read_sources(apt_dir))


def debootstrap_script_for(suite: str, scripts_dir: Path = DEBOOTSTRAP_SCRIPTS) -> Path | None:
    """The script argument debootstrap needs for ``suite``: None if it knows the suite itself.

    An older debootstrap (bookworm's knows no forky) builds a newer suite with the sid script.
    """
    if (scripts_dir / suite).exists():
        return None
    sid = scripts_dir / _SID_SCRIPT
    if sid.exists():
        return sid
    raise EnvironmentProblem(
        f"debootstrap has no script for Debian {suite} (looked in {scripts_dir})",
        hint="install a newer debootstrap (apt-get install -y debootstrap)",
    )


def debootstrap_command(
    suite: str,
    target: Path,
    *,
    mirror: str,
    packages: Sequence[str],
    script: Path | None = None,
    keyring: Path | None = None,
    cache_dir: Path | None = None,
    variant: str = "minbase",
    resolve_deps: bool = True,
    foreign: bool = False,
) -> list[str]:
    """The debootstrap command line for a small root filesystem holding ``packages``."""
    cmd = ["debootstrap", f"--variant={variant}", "--components=main"]
    if cache_dir is not None:
        cmd.append(f"--cache-dir={cache_dir}")
    if not resolve_deps:
        cmd.append("--no-resolve-deps")
    if foreign:
        cmd.append("--foreign")
    if packages:
        cmd.append("--include=" + ",".join(packages))
    if keyring is not None:
        cmd.append(f"--keyring={keyring}")
    cmd += [suite, str(target), mirror]
    if script is not None:
        cmd.append(str(script))
    return cmd


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_debootstrap(
    progress: Progress,
    *,
    which: Callable[[str], str | None] = shutil.which,
    run: Runner = subprocess.run,
    root: bool | None = None,
) -> None:
    """Make sure debootstrap (and the Debian archive keyring) exist; install them as root."""
    missing = []
    if which("debootstrap") is None:
        missing.append("debootstrap")
    if not DEBIAN_KEYRING.exists():
        missing.append("debian-archive-keyring")
    if not missing:
        return
    if not (is_root() if root is None else root):
        raise EnvironmentProblem(
            f"{' and '.join(missing)} missing and we are not root",
            hint=f"as root: apt-get install -y {' '.join(missing)}",
        )
    if which("apt-get") is None:
        raise EnvironmentProblem(
            f"{' and '.join(missing)} missing and this is no Debian/Ubuntu host (no apt-get)",
            hint="install debootstrap with your package manager, or build on a Debian host",
        )
    progress(f"installing {' '.join(missing)} with apt-get (needed to build images offline)…")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *missing]):
        done = run(cmd, capture_output=True, text=True, env=env, check=False, timeout=900)
        if done.returncode != 0:
            tail = _tail_text(done.stdout + done.stderr)
            raise EnvironmentProblem(
                f"`{' '.join(cmd)}` failed (exit {done.returncode}): {tail}",
                hint="check the Debian mirror is reachable from this host",
            )


def check_free_space(path: Path, needed: int = MIN_FREE_BYTES) -> None:
    free = shutil.disk_usage(path).free
    if free < needed:
        raise EnvironmentProblem(
            f"only {free / 1024**3:.1f} GiB free in {path}; building an image needs "
            f"{needed / 1024**3:.0f} GiB",
            hint="free disk space (docker system prune) and try again",
        )


def mounts_below(path: Path, mounts_text: str | None = None) -> list[Path]:
    """Mount points strictly inside ``path``, deepest first (from /proc/self/mounts)."""
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/self/mounts").read_text()
        except OSError:
            return []
    base = os.path.realpath(path)
    found = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        point = fields[1].replace("\\040", " ")
        if point.startswith(base + os.sep):
            found.append(Path(point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def remove_tree(path: Path) -> None:
    """Remove a build directory, unmounting whatever a failed debootstrap left mounted in it."""
    for point in mounts_below(path):
        subprocess.run(["umount", "-l", str(point)], check=False, capture_output=True)
    if mounts_below(path):
        # Never recurse into a live /proc or /sys of the host.
        raise EnvironmentProblem(
            f"could not unmount file systems below {path}",
            hint=f"unmount them (grep {path} /proc/self/mounts) and remove the directory",
        )
    shutil.rmtree(path, ignore_errors=True)


WORKSPACE_PREFIX = "releasegate-build-"
STALE_WORKSPACE_S = 3 * 3600


def sweep_stale_workspaces(
    parent: Path = BUILD_PARENT, max_age_s: float = STALE_WORKSPACE_S
) -> int:
    """Remove build directories a killed process left behind (older than any build takes)."""
    removed = 0
    now = time.time()
    for path in parent.glob(f"{WORKSPACE_PREFIX}*"):
        try:
            old = now - path.lstat().st_mtime > max_age_s
        except OSError:
            continue
        if old and path.is_dir() and not path.is_symlink():
            with contextlib.suppress(EnvironmentProblem, OSError):
                remove_tree(path)
                removed += 1
    return removed


@contextlib.contextmanager
def build_workspace(label: str, parent: Path = BUILD_PARENT) -> Iterator[Path]:
    """A fresh directory under /var/tmp, removed afterwards whatever happens."""
    parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_workspaces(parent)
    check_free_space(parent)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")
    workdir = Path(tempfile.mkdtemp(prefix=f"{WORKSPACE_PREFIX}{safe}-", dir=parent))
    try:
        yield workdir
    finally:
        remove_tree(workdir)


def tail_lines(path: Path, count: int = LOG_TAIL_LINES) -> list[str]:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return [line.rstrip("\n") for line in deque(fh, maxlen=count)]
    except OSError:
        return []


def _tail_text(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "(no output)"


def run_debootstrap(
    cmd: Sequence[str],
    log_path: Path,
    progress: Progress,
    *,
    target: Path,
    mirror: str,
    timeout_s: float = DEBOOTSTRAP_TIMEOUT_S,
    label: str = "",
    since: float | None = None,
) -> float:
    """Run debootstrap, logging everything to ``log_path``; returns the seconds it took.

    A failure raises EnvironmentProblem carrying the last lines of debootstrap's own log (which
    debootstrap writes inside the target and is copied next to ours), so the cause is visible.
    """
    started = time.monotonic()
    prefix = f"{label}: " if label else ""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
    with log_path.open("w", encoding="utf-8") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(
            list(cmd),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
        )
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                if line.startswith(_MILESTONES):
                    elapsed = time.monotonic() - (started if since is None else since)
                    progress(f"{prefix}{line.strip()[3:]} ({elapsed:.0f} s)")
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    seconds = time.monotonic() - started
    if code != 0:
        inner = target / "debootstrap" / "debootstrap.log"
        lines = tail_lines(inner) or tail_lines(log_path)
        with contextlib.suppress(OSError), log_path.open("a", encoding="utf-8") as log:
            log.write("\n--- debootstrap.log (tail) ---\n" + "\n".join(lines) + "\n")
        why = "timed out" if seconds >= timeout_s else f"failed (exit {code})"
        detail = " | ".join(line.strip() for line in lines[-6:] if line.strip())
        raise EnvironmentProblem(
            f"debootstrap {why} after {seconds:.0f} s: {detail or 'no log output'}",
            hint=f"check that the mirror {mirror} is reachable; "
            f"set {MIRROR_ENV} to another Debian mirror if not",
        )
    return seconds


def parse_dpkg_status(text: str) -> dict[str, str]:
    """Installed package -> version, from the text of /var/lib/dpkg/status."""
    versions: dict[str, str] = {}
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        name, version = fields.get("Package"), fields.get("Version")
        if name and version and "installed" in fields.get("Status", "").split():
            versions[name] = version
    return versions


def installed_versions(root: Path) -> dict[str, str]:
    return parse_dpkg_status((root / "var/lib/dpkg/status").read_text(errors="replace"))


def upstream_version(debian_version: str) -> str:
    """'15.18-0+deb12u1' -> '15.18'; '3.11.2-6+deb12u6' -> '3.11.2'; '1:2.3-1' -> '2.3'."""
    version = debian_version.split(":", 1)[-1]
    version = version.rsplit("-", 1)[0] if "-" in version else version
    return re.split(r"[~+]", version, maxsplit=1)[0]


def passwd_ids(root: Path, user: str) -> tuple[int, int] | None:
    """(uid, gid) of ``user`` in the root filesystem's /etc/passwd."""
    try:
        text = (root / "etc/passwd").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) >= 4 and parts[0] == user:
            return int(parts[2]), int(parts[3])
    return None


def renumber_user(root: Path, user: str, uid: int, gid: int) -> bool:
    """Give ``user`` (and its group) fixed ids, re-owning its files; False if the ids are taken.

    Debian's packages create system users with the next free id; the official postgres image
    uses 999:999, and volumes prepared for it should work with ours too.
    """
    current = passwd_ids(root, user)
    if current is None:
        return False
    if current == (uid, gid):
        return True
    passwd = (root / "etc/passwd").read_text().splitlines()
    group = (root / "etc/group").read_text().splitlines()

    def taken(lines: list[str], wanted: int) -> bool:
        return any(
            line.split(":")[2:3] == [str(wanted)]
            for line in lines
            if not line.startswith(user + ":")
        )

    if taken(passwd, uid) or taken(group, gid):
        return False
    old_uid, old_gid = current

    def fix(lines: list[str], new_id: int, index: int) -> str:
        out = []
        for line in lines:
            parts = line.split(":")
            if parts[0] == user and len(parts) > index:
                parts[index] = str(new_id)
                if index == 2 and len(parts) > 3:
                    parts[3] = str(gid)
            out.append(":".join(parts))
        return "\n".join(out) + "\n"

    (root / "etc/passwd").write_text(fix(passwd, uid, 2))
    (root / "etc/group").write_text(fix(group, gid, 2))
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if st.st_uid == old_uid or st.st_gid == old_gid:
                os.lchown(
                    path,
                    uid if st.st_uid == old_uid else -1,
                    gid if st.st_gid == old_gid else -1,
                )
    return True


def sources_list(suite: str, mirror: str, security: str | None = None) -> str:
    """The apt sources an image gets, so `apt-get install` works in images built from it."""
    lines = [f"deb {mirror} {suite} main"]
    if suite not in ("sid", "forky"):
        lines.append(f"deb {mirror} {suite}-updates main")
    if suite in _SECURITY_SUITES and security is not None:
        lines.append(f"deb {security} {suite}-security main")
    return "\n".join(lines) + "\n"


def slim_rootfs(root: Path) -> None:
    """Drop what a container never needs: apt lists and caches, docs (copyright kept), man pages."""
    for pattern in ("var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb",
                    "usr/share/man/*", "usr/share/info/*", "usr/share/lintian/*",
                    "var/log/*.log", "var/log/apt/*", "debootstrap"):
        for path in root.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    doc = root / "usr/share/doc"
    if doc.is_dir():
        for entry in doc.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                for item in entry.iterdir():
                    if item.name == "copyright":
                        continue
                    if item.is_dir() and not item.is_symlink():
                        shutil.rmtree(item, ignore_errors=True)
                    else:
                        item.unlink(missing_ok=True)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    # The host's hostname / resolv.conf copied by debootstrap mean nothing in an image.
    for name in ("etc/hostname", "etc/resolv.conf"):
        path = root / name
        if path.is_file() and not path.is_symlink():
            path.write_text("")


def pack_rootfs(root: Path, tarball: Path) -> None:
    """Tar the root filesystem (numeric owners, device nodes kept) for `docker import`."""
    done = subprocess.run(
        ["tar", "--numeric-owner", "-C", str(root), "-cf", str(tarball), "."],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise EnvironmentProblem(
            f"tar of the root filesystem failed: {_tail_text(done.stderr)}",
            hint=f"check free space in {tarball.parent}",
        )


# --- parallel download of the packages debootstrap is going to fetch ---------------------------
#
# debootstrap downloads one package after the other; most of a build is spent waiting on the
# mirror. The packages it will need are resolved here (roughly as debootstrap does: every
# Priority: required package, apt, the recipe's packages and their Depends/Pre-Depends, first
# alternative) and fetched in parallel into its --cache-dir. debootstrap still resolves and
# checks every package against its own, signature-checked index: a package missing here is
# simply downloaded by debootstrap, a wrong one is discarded by its checksum test.

PREFETCH_WORKERS = 8
HTTP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DebPackage:
    name: str
    version: str
    arch: str
    filename: str
    sha256: str
    size: int
    priority: str
    depends: tuple[tuple[str, ...], ...]
    provides: tuple[str, ...]

    @property
    def cache_name(self) -> str:
        """The file name debootstrap looks for in --cache-dir (first ':' as %3a)."""
        return f"{self.name}_{self.version}_{self.arch}.deb".replace(":", "%3a", 1)


def _relation_names(field: str) -> tuple[tuple[str, ...], ...]:
    """'a (>= 1) | b:any, c [amd64]' -> (('a', 'b'), ('c',))."""
    groups = []
    for group in field.split(","):
        names = []
        for alt in group.split("|"):
            name = re.split(r"[\s(\[<]", alt.strip(), maxsplit=1)[0].split(":", 1)[0]
            if name:
                names.append(name)
        if names:
            groups.append(tuple(names))
    return tuple(groups)


def parse_packages_index(text: str) -> dict[str, DebPackage]:
    """Package name -> entry, from the text of a Packages index (first stanza of a name wins)."""
    index: dict[str, DebPackage] = {}
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t"):
                if key:
                    fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        name = fields.get("Package")
        if not name or name in index or "Filename" not in fields:
            continue
        depends = fields.get("Pre-Depends", "") + "," + fields.get("Depends", "")
        index[name] = DebPackage(
            name=name,
            version=fields.get("Version", ""),
            arch=fields.get("Architecture", ""),
            filename=fields["Filename"],
            sha256=fields.get("SHA256", ""),
            size=int(fields.get("Size", "0") or 0),
            priority=fields.get("Priority", ""),
            depends=_relation_names(depends),
            provides=tuple(n for group in _relation_names(fields.get("Provides", ""))
                           for n in group),
        )
    return index


_PRIORITY_RANK = {"required": 0, "important": 1, "standard": 2, "optional": 3, "extra": 4}


def resolve_packages(
    index: Mapping[str, DebPackage], roots: Iterable[str], *, exclude: Iterable[str] = ()
) -> list[DebPackage]:
    """The dependency closure of ``roots``: Depends and Pre-Depends, the first alternative that
    exists, a virtual package by a provider already chosen or else the most important one."""
    providers: dict[str, list[DebPackage]] = {}
    for pkg in index.values():
        for virtual in pkg.provides:
            providers.setdefault(virtual, []).append(pkg)
    for found in providers.values():
        found.sort(key=lambda p: (_PRIORITY_RANK.get(p.priority, 9), p.name))
    skip = set(exclude)
    chosen: dict[str, DebPackage] = {}
    satisfied: set[str] = set()
    todo: deque[DebPackage] = deque()

    def real_package(name: str) -> DebPackage | None:
        if name in index and name not in skip:
            return index[name]
        for pkg in providers.get(name, ()):
            if pkg.name in chosen:
                return pkg
        return next((p for p in providers.get(name, ()) if p.name not in skip), None)

    def choose(pkg: DebPackage) -> None:
        if pkg.name in chosen:
            return
        chosen[pkg.name] = pkg
        satisfied.add(pkg.name)
        satisfied.update(pkg.provides)
        todo.append(pkg)

    for name in roots:
        if name in skip:
            continue
        root_pkg = real_package(name)
        if root_pkg is not None:
            choose(root_pkg)
    while todo:
        pkg = todo.popleft()
        for group in pkg.depends:
            if any(alt in satisfied for alt in group):
                continue
            pick = next((index[alt] for alt in group if alt in index and alt not in skip), None)
            if pick is None:
                pick = next((p for alt in group if (p := real_package(alt)) is not None), None)
            if pick is not None:
                choose(pick)
    return sorted(chosen.values(), key=lambda p: p.name)


def minbase_roots(
    index: Mapping[str, DebPackage], suite: str, packages: Sequence[str]
) -> list[str]:
    roots = [p.name for p in index.values() if p.priority == "required"]
    roots += ["apt", *packages]
    if suite == "bookworm":
        roots.append("usr-is-merged")
    return roots


def host_architecture() -> str:
    done = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=False)
    return done.stdout.strip() or "amd64"


def _http_get(url: str, timeout: float = HTTP_TIMEOUT_S) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP URL: {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
        data: bytes = response.read()
        return data


def fetch_packages_index(mirror: str, suite: str, arch: str) -> dict[str, DebPackage]:
    raw = _http_get(f"{mirror}/dists/{suite}/main/binary-{arch}/Packages.xz")
    return parse_packages_index(lzma.decompress(raw).decode("utf-8", errors="replace"))


def _download_one(mirror: str, pkg: DebPackage, cache_dir: Path) -> int:
    dest = cache_dir / pkg.cache_name
    if dest.exists():
        return 0
    data = _http_get(f"{mirror}/{pkg.filename}")
    if pkg.sha256 and hashlib.sha256(data).hexdigest() != pkg.sha256:
        return 0
    partial = dest.with_name(dest.name + ".partial")
    partial.write_bytes(data)
    partial.rename(dest)
    return len(data)


@dataclass(frozen=True)
class PackagePlan:
    """The packages debootstrap installs: its "required" and "base" sets, dependencies included."""

    required: tuple[str, ...]
    base: tuple[str, ...]
    closure: tuple[DebPackage, ...]


def plan_packages(
    index: Mapping[str, DebPackage], suite: str, packages: Sequence[str]
) -> PackagePlan:
    """What debootstrap --variant=minbase would resolve: Priority: required (+ usr-is-merged on
    bookworm) and their dependencies, then apt + ``packages`` and theirs."""
    exclude = ("usrmerge",) if suite != "bullseye" else ()
    required_roots = [p.name for p in index.values() if p.priority == "required"]
    if suite == "bookworm":
        required_roots.append("usr-is-merged")
    required = resolve_packages(index, required_roots, exclude=exclude)
    closure = resolve_packages(index, [*required_roots, "apt", *packages], exclude=exclude)
    required_names = {p.name for p in required}
    base = tuple(p.name for p in closure if p.name not in required_names)
    return PackagePlan(tuple(p.name for p in required), base, tuple(closure))


def planned_script(original: Path, plan: PackagePlan) -> str:
    """A debootstrap suite script that installs ``plan`` exactly (used with --no-resolve-deps).

    The suite's own script is kept whole (it is copied into the target for the second stage, so
    it must not refer to host paths) and only work_out_debs is replaced.
    """
    for name in (*plan.required, *plan.base):
        if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]*", name):
            raise ValueError(f"unexpected package name {name!r}")
    return (
        original.read_text()
        + "\n# package sets resolved in advance by releasegate\n"
        + "work_out_debs () {\n"
        + f'\trequired="{" ".join(plan.required)}"\n'
        + f'\tbase="{" ".join(plan.base)}"\n'
        + "}\n"
    )


def prefetch_debs(
    mirror: str,
    plan: PackagePlan,
    cache_dir: Path,
    progress: Progress,
    *,
    label: str = "",
    workers: int = PREFETCH_WORKERS,
) -> int:
    """Download, in parallel, the packages of ``plan``; returns how many arrived.

    Best effort: a package that fails is left to debootstrap.
    """
    prefix = f"{label}: " if label else ""
    started = time.monotonic()
    fetched = 0
    total = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_download_one, mirror, pkg, cache_dir) for pkg in plan.closure]
        for future in futures:
            try:
                size = future.result()
            except (OSError, ValueError):
                continue
            if size:
                fetched += 1
                total += size
    progress(
        f"{prefix}downloaded {fetched}/{len(plan.closure)} packages "
        f"({total / 1024**2:.0f} MB) in {time.monotonic() - started:.0f} s"
    )
    return fetched


# Downloaded packages are kept between builds, one folder per suite: a second image of a suite,
# or a rebuild after a recipe change, downloads only what changed on the mirror. debootstrap
# checks every cached file against its signed index, so a stale one is simply fetched again.
DEB_CACHE_ENV = "RELEASEGATE_DEB_CACHE"
DEB_CACHE = Path("/var/cache/releasegate/debs")
DEB_CACHE_MAX_AGE_S = 30 * 86400


def deb_cache_dir(suite: str, env: Mapping[str, str] | None = None,
                  max_age_s: float = DEB_CACHE_MAX_AGE_S) -> Path:
    """The package cache for ``suite`` ($RELEASEGATE_DEB_CACHE or /var/cache/releasegate/debs),
    with packages no build used for ``max_age_s`` removed (superseded versions)."""
    environ = os.environ if env is None else env
    folder = Path(environ.get(DEB_CACHE_ENV) or DEB_CACHE) / suite
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for deb in folder.glob("*.deb"):
        with contextlib.suppress(OSError):
            if now - deb.stat().st_atime > max_age_s and now - deb.stat().st_mtime > max_age_s:
                deb.unlink()
    return folder


@contextlib.contextmanager
def _cache_lock(cache: Path) -> Iterator[None]:
    with (cache / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# dpkg inside the build never fsyncs (the official Debian images ship the same setting: a
# container's file system is thrown away, not recovered after a crash).
DPKG_UNSAFE_IO = "etc/dpkg/dpkg.cfg.d/docker-apt-speedup"


def bootstrap(
    suite: str,
    packages: Sequence[str],
    work: Path,
    progress: Progress,
    *,
    mirror: str,
    label: str = "",
) -> Path:
    """Build a minbase root filesystem with ``packages`` in ``work``/rootfs; returns its path.

    Fast path: packages resolved here and fetched in parallel, debootstrap told not to resolve
    again (``--no-resolve-deps``), its second stage run with dpkg's unsafe-io. If that fails for
    any reason the plain, slower debootstrap run is tried once before giving up.
    """
    prefix = f"{label}: " if label else ""
    since = time.monotonic()
    script = debootstrap_script_for(suite)
    keyring = DEBIAN_KEYRING if DEBIAN_KEYRING.exists() else None
    cache = deb_cache_dir(suite)
    root = work / "rootfs"
    plan: PackagePlan | None = None
    try:
        index = fetch_packages_index(mirror, suite, host_architecture())
        plan = plan_packages(index, suite, packages)
    except (OSError, ValueError, lzma.LZMAError) as exc:
        progress(f"{prefix}cannot read the package index ({exc}); using plain debootstrap")
    if plan is not None:
        try:
            original = script or DEBOOTSTRAP_SCRIPTS / suite
            planned = work / f"{suite}.planned"
            planned.write_text(planned_script(original, plan))
            first = debootstrap_command(
                suite, root, mirror=mirror, packages=(), script=planned,
                keyring=keyring, cache_dir=cache, resolve_deps=False, foreign=True,
            )
            # Downloads go into the shared cache: one build of this suite at a time there.
            with _cache_lock(cache):
                prefetch_debs(mirror, plan, cache, progress, label=label)
                run_debootstrap(first, work / "debootstrap-1.log", progress, target=root,
                                mirror=mirror, label=label, since=since)
            conf = root / DPKG_UNSAFE_IO
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text("force-unsafe-io\n")
            second = ["chroot", str(root), "/debootstrap/debootstrap", "--second-stage"]
            run_debootstrap(second, work / "debootstrap-2.log", progress, target=root,
                            mirror=mirror, label=label, since=since)
            return root
        except (EnvironmentProblem, OSError, ValueError) as exc:
            progress(f"{prefix}fast build failed ({exc}); retrying with plain debootstrap")
            remove_tree(root)
    cmd = debootstrap_command(
        suite, root, mirror=mirror, packages=packages, script=script, keyring=keyring,
        cache_dir=cache,
    )
    with _cache_lock(cache):
        run_debootstrap(cmd, work / "debootstrap.log", progress, target=root, mirror=mirror,
                        label=label, since=since)
    conf = root / DPKG_UNSAFE_IO
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text("force-unsafe-io\n")
    return root
