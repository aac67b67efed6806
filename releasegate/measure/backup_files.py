"""Backup artifacts as the harness sees them: files in a container's directory, checked by the
harness itself — their format, their checksum side file, their manifest.

Nothing the application prints about its backup is taken on trust: the directory is read through
the engine (a tar of it), every artifact is hashed here, and a side file only counts when it
agrees with what was hashed. Hidden files (a leading dot) are temporary files, never promoted
artifacts.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import io
import json
import posixpath
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from releasegate.config.sections.backup import BackupSettings

CUSTOM, PLAIN, GZIP, DIRECTORY_TAR, UNKNOWN = "custom", "plain", "gzip", "tar", "unknown"


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    mode: int
    uid: int
    mtime: float


def _archive(container: Any, path: str) -> tarfile.TarFile:
    chunks, _ = container.get_archive(path)
    return tarfile.open(fileobj=io.BytesIO(b"".join(chunks)))


def list_dir(container: Any, path: str) -> dict[str, FileEntry]:
    """The regular files directly in ``path`` (raises docker's NotFound when it is missing)."""
    entries: dict[str, FileEntry] = {}
    with _archive(container, path) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 2:
                entries[parts[1]] = FileEntry(parts[1], member.size, member.mode, member.uid,
                                              float(member.mtime))
    return entries


def read_file(container: Any, path: str) -> bytes:
    with _archive(container, path) as archive:
        member = archive.getmembers()[0]
        handle = archive.extractfile(member)
        if handle is None:
            raise FileNotFoundError(f"{path} in the container is not a regular file")
        return handle.read()


def put_file(container: Any, path: str, data: bytes, *, uid: int = 0, mode: int = 0o600) -> None:
    info = tarfile.TarInfo(posixpath.basename(path))
    info.size, info.mode, info.mtime, info.uid, info.gid = len(data), mode, int(time.time()), \
        uid, uid
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(info, io.BytesIO(data))
    if not container.put_archive(posixpath.dirname(path), buffer.getvalue()):
        raise RuntimeError(f"the container refused the file {path}")


# -- which file is the artifact ------------------------------------------------------------

def artifact_names(entries: Mapping[str, FileEntry], settings: BackupSettings) -> list[str]:
    """Promoted artifacts in a listing: matching the glob, not hidden, not a side file."""
    suffixes = tuple(s for s in (settings.checksum_suffix, settings.manifest_suffix) if s)
    return sorted(name for name in entries
                  if fnmatch.fnmatch(name, settings.artifact) and not name.startswith(".")
                  and name != settings.latest and not (suffixes and name.endswith(suffixes)))


def new_artifacts(before: Mapping[str, FileEntry], after: Mapping[str, FileEntry],
                  settings: BackupSettings) -> list[str]:
    """Artifacts that appeared (or were rewritten) between two listings, oldest first."""
    changed = [name for name in artifact_names(after, settings)
               if name not in before or before[name] != after[name]]
    return sorted(changed, key=lambda n: (after[n].mtime, n))


# -- what an artifact is ---------------------------------------------------------------------

def dump_format(head: bytes) -> str:
    if head.startswith(b"PGDMP"):
        return CUSTOM
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if len(head) > 262 and head[257:262] == b"ustar":
        return DIRECTORY_TAR
    text = head[:4096].decode("utf-8", "replace")
    if "PostgreSQL database dump" in text or "CREATE TABLE" in text or "SET " in text:
        return PLAIN
    return UNKNOWN


@dataclass
class ArtifactCheck:
    name: str
    size: int
    sha256: str
    format: str
    checksum: str | None = None
    """The sha256 the side file names (None: no side file was expected or found)."""
    manifest: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def evidence(self) -> dict[str, Any]:
        return {"file": self.name, "bytes": self.size, "sha256": self.sha256,
                "format": self.format, "checksum_file_sha256": self.checksum,
                "manifest_keys": sorted(self.manifest) if self.manifest else None,
                "problems": self.problems}


def check_artifact(name: str, data: bytes, sidecars: Mapping[str, bytes | None],
                   settings: BackupSettings) -> ArtifactCheck:
    """Hash the artifact and hold its side files against it. ``sidecars`` maps each expected
    side file's suffix to its bytes (None when it is missing)."""
    check = ArtifactCheck(name, len(data), hashlib.sha256(data).hexdigest(),
                          dump_format(data[:8192]))
    if not data:
        check.problems.append("the artifact is empty")
    if check.format in (UNKNOWN, GZIP):
        check.problems.append(f"the artifact is not a PostgreSQL dump the harness can restore "
                              f"(format {check.format}; custom or plain SQL expected)")
    if settings.checksum_suffix:
        raw = sidecars.get(settings.checksum_suffix)
        if raw is None:
            check.problems.append(f"no checksum file {name}{settings.checksum_suffix}")
        else:
            fields = raw.decode("utf-8", "replace").split()
            check.checksum = fields[0].lower() if fields else ""
            if check.checksum != check.sha256:
                check.problems.append(f"checksum file says {check.checksum[:16]}…, the "
                                      f"artifact hashes to {check.sha256[:16]}…")
    if settings.manifest_suffix:
        raw = sidecars.get(settings.manifest_suffix)
        try:
            manifest = json.loads(raw) if raw is not None else None
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict):
            check.problems.append(f"no readable JSON manifest {name}{settings.manifest_suffix}")
        else:
            check.manifest = manifest
    return check


def fetch_and_check(container: Any, settings: BackupSettings, name: str) -> tuple[
        bytes, ArtifactCheck]:
    """Copy an artifact and its side files out of the container and check them."""
    data = read_file(container, posixpath.join(settings.dir, name))
    sidecars: dict[str, bytes | None] = {}
    for suffix in (settings.checksum_suffix, settings.manifest_suffix):
        if suffix:
            try:
                sidecars[suffix] = read_file(container, posixpath.join(settings.dir,
                                                                       name + suffix))
            except Exception:  # missing side file: check_artifact names the problem
                sidecars[suffix] = None
    return data, check_artifact(name, data, sidecars, settings)


def read_latest(container: Any, settings: BackupSettings) -> str | None:
    """The pointer file's content (None when the application keeps none or it is absent)."""
    if not settings.latest:
        return None
    try:
        return read_file(container, posixpath.join(settings.dir, settings.latest)).decode(
            "utf-8", "replace").strip()
    except Exception:
        return None


def manifest_time(check: ArtifactCheck, key: str) -> float | None:
    """An ISO-8601 time from the manifest, as epoch seconds (None if absent or unreadable)."""
    if not key or not check.manifest or not isinstance(check.manifest.get(key), str):
        return None
    return parse_time(str(check.manifest[key]))


def parse_time(text: str) -> float | None:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def flip_bytes(data: bytes, *, width: int = 64) -> bytes:
    """The same artifact with its last ``width`` bytes inverted. A dump keeps its table of
    contents first and its table data after it, so the damage lands in the last data block,
    which is read only after every table was created: a restore that goes on after an error
    leaves a half-restored database behind, one that stops at the first error leaves nothing.
    (Damage in the table of contents would stop any restore before it began, proving nothing.)"""
    out = bytearray(data)
    for j in range(max(0, len(out) - width), len(out)):
        out[j] ^= 0xFF
    return bytes(out)
