"""SEC-BACKUP-PERMS: after the application's own backup command, every file in the backup
directory is mode 0600 or stricter and owned by the service user, and the directory itself is
not readable by others.

The listing comes from the engine's archive of the directory (modes and owners as the tar
headers record them), so the image needs no shell, ``stat`` or ``find``.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass

from releasegate.evidence.findings import OWASP_API_2023, Finding

CRITERION = "SEC-BACKUP-PERMS"


@dataclass(frozen=True)
class Entry:
    path: str
    """Inside the container, absolute."""
    mode: int
    uid: int
    is_dir: bool
    mtime: int
    size: int

    @property
    def octal(self) -> str:
        return f"{self.mode & 0o7777:04o}"


def listing(chunks: Iterable[bytes], directory: str) -> list[Entry]:
    """Entries of ``docker cp``-style archive of ``directory`` (the directory first)."""
    parent = posixpath.dirname(directory.rstrip("/"))
    entries = []
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r:") as tar:
        for member in tar.getmembers():
            if member.isdir() or member.isfile():
                entries.append(Entry(posixpath.join(parent, member.name), member.mode,
                                     member.uid, member.isdir(), int(member.mtime), member.size))
    return entries


def changed(before: list[Entry], after: list[Entry]) -> list[Entry]:
    """Files the command wrote: new, or rewritten (another time or size)."""
    old = {(e.path, e.mtime, e.size) for e in before}
    return [e for e in after if not e.is_dir and (e.path, e.mtime, e.size) not in old]


def judge(after: list[Entry], directory: str, service_uid: int, *,
          container: str) -> list[Finding]:
    findings: list[Finding] = []
    root = directory.rstrip("/") or "/"

    def add(entry: Entry, rule: str, severity: str, title: str) -> None:
        findings.append(Finding(
            tool="releasegate-backup", rule=rule, severity=severity, criterion=CRITERION,
            title=title, location=f"{entry.path}",
            evidence=f"mode {entry.octal}, owner uid {entry.uid}, service uid {service_uid}",
            reproduction=f"docker exec {container} ls -ln {entry.path}",
            owasp=OWASP_API_2023["API8"]))

    for entry in after:
        if entry.is_dir and entry.path.rstrip("/") == root:
            if entry.mode & 0o007:
                add(entry, "backup-dir-world-accessible", "high",
                    f"the backup directory is open to other users (mode {entry.octal})")
        elif not entry.is_dir:
            if entry.mode & 0o077:
                add(entry, "backup-file-readable", "high",
                    f"a backup file is accessible beyond its owner (mode {entry.octal}, "
                    "needs 0600 or stricter)")
            if entry.uid != service_uid:
                add(entry, "backup-file-owner", "medium",
                    f"a backup file is owned by uid {entry.uid}, not the service user "
                    f"({service_uid})")
    return findings
