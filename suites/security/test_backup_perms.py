"""SEC-BACKUP-PERMS: the files the application's own backup command writes are private to the
service user, and so is their directory."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import triage
from releasegate.measure.commands import MissingCommand, run_in_container, run_profile_command
from releasegate.measure.recorder import Recorder
from releasegate.measure.security.backup_perms import Entry, changed, judge, listing
from releasegate.measure.security.support import announce, stopwatch
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CID = "SEC-BACKUP-PERMS"


def _service_uid(container: Any) -> tuple[int | None, str]:
    """The uid the image's USER names (root when unset), resolved inside the container."""
    user = str(container.attrs["Config"].get("User") or "0").split(":", 1)[0]
    if user.isdigit():
        return int(user), user
    found = run_in_container(container, ["id", "-u", user])
    text = found.stdout.strip()
    return (int(text), user) if found.ok and text.isdigit() else (None, user)


def _list(container: Any, directory: str) -> list[Entry]:
    try:
        stream, _ = container.get_archive(directory)
    except Exception:  # the engine's NotFound: no directory yet, so no files either
        return []
    return listing(stream, directory)


@pytest.mark.criterion(CID)
def test_backup_files_are_private_to_the_service_user(
    healthy_stack: StackInfo, gate_profile: Profile, app_container: Any, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    settings = gate_profile.section("security").backup
    if settings.directory is None:
        record.insufficient(CID, "the profile does not say where backups land: set "
                            "[security.backup] directory")
        return
    uid, user = _service_uid(app_container)
    if uid is None:
        record.insufficient(CID, f"the image's USER {user!r} does not resolve to a uid in the "
                            "container, so ownership cannot be judged")
        return
    with stopwatch() as watch:
        before = _list(app_container, settings.directory)
        try:
            result = run_profile_command(app_container, gate_profile, settings.command,
                                         healthy_stack.template_values())
        except MissingCommand as exc:
            record.insufficient(CID, f"{exc}: the application's own backup command is needed")
            return
        after = _list(app_container, settings.directory)
    announce(request.config, f"security: backup and its permissions took {watch.seconds:.1f} s")
    written = changed(before, after)
    if not result.ok or not written:
        why = result.describe() if not result.ok else (
            f"it wrote no file in {settings.directory}")
        record.insufficient(CID, f"the backup command gave nothing to judge: {why}")
        return
    findings = judge(after, settings.directory, uid, container=app_container.name)
    files = [e for e in after if not e.is_dir]
    record.findings(
        CID, triage(findings, gate_profile.section("security").waivers, date.today()),
        examined=len(files) + 1, what="backup file or directory",
        source=f"[commands].{settings.command} in the app container, then the engine's archive "
               f"of {settings.directory} (modes and owners)",
        evidence={"service_uid": uid, "written": [e.path for e in written],
                  "entries": [{"path": e.path, "mode": e.octal, "uid": e.uid}
                              for e in after][:100],
                  "command_seconds": round(result.seconds, 2), "seconds": watch.seconds})
