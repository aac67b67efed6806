"""SEC-BACKUP-PERMS logic over the engine's archive of the backup directory."""

from __future__ import annotations

import io
import tarfile

from releasegate.measure.security.backup_perms import changed, judge, listing


def archive(entries: list[tuple[str, int, int, bool, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, mode, uid, is_dir, mtime in entries:
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.mtime = mode, uid, mtime
            info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
            tar.addfile(info, None if is_dir else io.BytesIO(b""))
    return buffer.getvalue()


def test_private_backups_pass_and_each_weakness_is_a_finding() -> None:
    before = listing([archive([("backups", 0o700, 10, True, 1)])], "/app/backups")
    after = listing([archive([
        ("backups", 0o755, 10, True, 1),
        ("backups/old.dump", 0o600, 10, False, 1),
        ("backups/new.dump", 0o644, 10, False, 2),
        ("backups/new.sha256", 0o600, 0, False, 2),
    ])], "/app/backups")
    assert [e.path for e in changed(before, after)] == [
        "/app/backups/old.dump", "/app/backups/new.dump", "/app/backups/new.sha256"]
    found = judge(after, "/app/backups", 10, container="app-1")
    assert sorted((f.rule, f.location) for f in found) == [
        ("backup-dir-world-accessible", "/app/backups"),
        ("backup-file-owner", "/app/backups/new.sha256"),
        ("backup-file-readable", "/app/backups/new.dump"),
    ]
    assert "mode 0644" in next(f.evidence for f in found if f.rule == "backup-file-readable")


def test_a_0750_directory_and_0400_files_are_fine() -> None:
    after = listing([archive([("b", 0o750, 7, True, 1), ("b/x", 0o400, 7, False, 1)])], "/b")
    assert judge(after, "/b", 7, container="c") == []
    assert changed(after, after) == []
