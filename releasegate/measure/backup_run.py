"""One run of the application's backup command, watched from outside: the backup directory
before and after, the ``latest`` pointer before and after, the wall clock around it.

Which file is the new artifact is decided from the directory, never from what the command
printed: the pointer, when the application keeps one and it moved to a new file, else the
newest artifact that appeared.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from docker.errors import NotFound

from releasegate.config.profile import Profile
from releasegate.config.sections.backup import BackupSettings
from releasegate.measure.backup_files import FileEntry, list_dir, new_artifacts, read_latest
from releasegate.measure.commands import CommandResult, run_profile_command


@dataclass
class BackupRun:
    result: CommandResult
    started: float
    """Epoch seconds just before the command was started."""
    finished: float
    seconds: float
    """Wall clock of the command (monotonic)."""
    before: dict[str, FileEntry] = field(default_factory=dict)
    after: dict[str, FileEntry] = field(default_factory=dict)
    latest_before: str | None = None
    latest_after: str | None = None
    new: list[str] = field(default_factory=list)

    @property
    def artifact(self) -> str | None:
        if self.latest_after and self.latest_after != self.latest_before \
                and self.latest_after in self.after:
            return self.latest_after
        return self.new[-1] if self.new else None

    @property
    def latest_moved(self) -> bool:
        return self.latest_after != self.latest_before

    def evidence(self) -> dict[str, Any]:
        return {"argv": self.result.argv, "exit_code": self.result.exit_code,
                "seconds": round(self.seconds, 3), "new_files": self.new,
                "artifact": self.artifact, "latest_before": self.latest_before,
                "latest_after": self.latest_after, "output_tail": self.result.describe()}


def snapshot_dir(container: Any, settings: BackupSettings) -> tuple[dict[str, FileEntry],
                                                                     str | None]:
    try:
        entries = list_dir(container, settings.dir)
    except NotFound:
        entries = {}
    return entries, read_latest(container, settings)


def run_backup(container: Any, profile: Profile, settings: BackupSettings,
               values: Mapping[str, str], *, env: Mapping[str, str] | None = None) -> BackupRun:
    """Run ``[commands] backup`` in ``container`` and see what it left in the directory."""
    before, latest_before = snapshot_dir(container, settings)
    started, clock = time.time(), time.monotonic()
    result = run_profile_command(container, profile, "backup", values, env=env)
    seconds = time.monotonic() - clock
    after, latest_after = snapshot_dir(container, settings)
    return BackupRun(result, started, started + seconds, seconds, before, after, latest_before,
                     latest_after, new_artifacts(before, after, settings))
