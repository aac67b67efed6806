"""Restoring an artifact into a new empty database on the fresh server, the way the application
says (``[commands] restore``) or, when it says nothing, with PostgreSQL's own all-or-nothing
restore run by the harness."""

from __future__ import annotations

import itertools
import posixpath
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from releasegate.config.profile import Profile
from releasegate.config.sections.backup import BackupSettings
from releasegate.measure import pg_tools
from releasegate.measure.backup_files import put_file
from releasegate.measure.commands import CommandResult, run_profile_command
from releasegate.stack.databases import PG_PORT, FreshServer
from releasegate.stack.model import DatabaseEndpoint

HARNESS_RESTORE = "pg_restore --exit-on-error --single-transaction (run by the harness)"
APP_RESTORE = "the application's [commands] restore"
_numbers = itertools.count(1)


@dataclass
class Restored:
    target: DatabaseEndpoint
    """The restored database as the harness reaches it."""
    result: CommandResult
    seconds: float
    via: str

    @property
    def ok(self) -> bool:
        return self.result.ok


def app_url(server: FreshServer, target: DatabaseEndpoint) -> str:
    """The target as the application reaches it (on the run network)."""
    return scratch_values(server.alias, PG_PORT, target)["scratch.url"]


def scratch_values(host: str, port: int | str, target: DatabaseEndpoint) -> dict[str, str]:
    """``{scratch.*}`` placeholders naming ``target`` as the application reaches it (at
    ``host:port``): commands written for a scratch database run against this one."""
    return {"scratch.host": host, "scratch.port": str(port), "scratch.database": target.database,
            "scratch.user": target.user, "scratch.password": target.password,
            "scratch.url": f"postgresql://{quote(target.user, safe='')}:"
                           f"{quote(target.password, safe='')}@{host}:{port}/"
                           f"{quote(target.database, safe='')}?sslmode={target.sslmode}"}


def inside(server: FreshServer, target: DatabaseEndpoint) -> DatabaseEndpoint:
    """The target as a tool inside the fresh server's own container reaches it."""
    return replace(target, host="127.0.0.1", port=PG_PORT)


def restore_artifact(*, holder: Any, profile: Profile, settings: BackupSettings,
                     server: FreshServer, name: str, data: bytes, fmt: str, label: str,
                     values: Mapping[str, str]) -> Restored:
    """Restore artifact ``name`` (kept by container ``holder``) into a new database."""
    target = server.create_database(f"rg_{label}_{next(_numbers)}")
    started = time.monotonic()
    if "restore" in profile.commands:
        result = run_profile_command(holder, profile, "restore", {
            **values, "backup.path": posixpath.join(settings.dir, name),
            "backup.dir": settings.dir, "restore.url": app_url(server, target),
            "restore.host": server.alias, "restore.port": str(PG_PORT),
            "restore.database": target.database, "restore.user": target.user,
            "restore.password": target.password})
        via = APP_RESTORE
    else:
        path = f"/tmp/{name}"
        put_file(server.container, path, data)
        result = pg_tools.restore(server.container, path, fmt, inside(server, target))
        via = HARNESS_RESTORE
    return Restored(target, result, time.monotonic() - started, via)
