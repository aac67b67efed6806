"""``[backup]``: where the application's backup command leaves its artifact, and how to read it.

The commands themselves are ``[commands] backup``, ``restore`` and ``seed``; this section says
what the harness needs to check their work without knowing the application: the backup
directory inside the application container, how an artifact is named, which side files prove
it (a checksum, a manifest with the snapshot's time), and how to switch on the application's
own scheduler. An empty value means "the application has no such thing"; the criteria that
need it are then insufficient, with the key to set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from releasegate.config.reader import Table

INTERVAL_PLACEHOLDER = "{backup.interval_s}"


@dataclass(frozen=True)
class BackupSettings:
    dir: str = ""
    """The backup directory inside the application container ("" = unknown)."""
    artifact: str = "*"
    """Glob of an artifact's file name in ``dir`` (side files must not match it)."""
    latest: str = ""
    """A file in ``dir`` naming the newest verified artifact ("" = the application keeps none)."""
    checksum_suffix: str = ""
    """``<artifact><suffix>`` holds the artifact's sha256 (sha256sum format; "" = none)."""
    manifest_suffix: str = ""
    """``<artifact><suffix>`` is a JSON manifest ("" = none)."""
    manifest_snapshot_time: str = ""
    """Manifest key of an ISO-8601 time at or before the dump's snapshot ("" = not recorded)."""
    scheduler_env: dict[str, str] = field(default_factory=dict)
    """Environment that turns the application's own scheduler on, every
    ``{backup.interval_s}`` seconds ({} = it has none the harness can switch on)."""
    scheduler_interval_s: float = 6.0
    scheduler_wait_s: float = 0.0
    """How long to wait for two scheduled backups (0 = three intervals plus a minute)."""
    alert_match: dict[str, str] = field(default_factory=dict)
    """Fields of the alert body that mark a failed backup ({} = any alert after the failure)."""
    dump_process: str = "pg_dump"
    """Name of the process that writes the dump (killed midway by the failure drill)."""
    canary_interval_ms: int = 100
    """One canary write through the API this often while the backup runs (RPO)."""

    @property
    def wait_for_schedule_s(self) -> float:
        return self.scheduler_wait_s or 3 * self.scheduler_interval_s + 60


def parse(t: Table) -> BackupSettings:
    settings = BackupSettings(
        dir=t.text("dir", ""), artifact=t.text("artifact", "*"), latest=t.text("latest", ""),
        checksum_suffix=t.text("checksum_suffix", ""),
        manifest_suffix=t.text("manifest_suffix", ""),
        manifest_snapshot_time=t.text("manifest_snapshot_time", ""),
        scheduler_env=t.str_map("scheduler_env"),
        scheduler_interval_s=t.number("scheduler_interval_s", 6.0),
        scheduler_wait_s=t.number("scheduler_wait_s", 0.0),
        alert_match=t.str_map("alert_match"),
        dump_process=t.text("dump_process", "pg_dump"),
        canary_interval_ms=t.integer("canary_interval_ms", 100),
    )
    t.finish()
    if settings.dir and not settings.dir.startswith("/"):
        raise t.error("dir", f"{settings.dir!r} must be an absolute path in the container")
    if "/" in settings.artifact or not settings.artifact:
        raise t.error("artifact", "a file-name glob, without a directory", 'e.g. "*.dump"')
    if not 1 <= settings.scheduler_interval_s <= 3600:
        raise t.error("scheduler_interval_s", "must be between 1 and 3600 seconds")
    if settings.scheduler_wait_s < 0:
        raise t.error("scheduler_wait_s", "must not be negative")
    if not 20 <= settings.canary_interval_ms <= 5000:
        raise t.error("canary_interval_ms", "must be between 20 and 5000")
    if settings.scheduler_env and not any(
            INTERVAL_PLACEHOLDER in value for value in settings.scheduler_env.values()):
        raise t.error("scheduler_env", f"no value uses {INTERVAL_PLACEHOLDER}",
                      f'e.g. {{ APP_BACKUP_INTERVAL = "{INTERVAL_PLACEHOLDER}" }}')
    return settings
