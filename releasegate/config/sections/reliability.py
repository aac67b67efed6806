"""``[reliability]``: how the fault experiments write, read and load the application.

Every fault runs a write ledger: writes through the application's API, each with a unique id,
read back afterwards through the API *and* straight from the database. ``[reliability.writes]``
says how (placeholders ``{write.id}``, ``{write.prefix}``, ``{page}``, ``{offset}``,
``{limit}``). ``reads`` are the GETs that keep the application busy meanwhile.
``[reliability.log_rotation]`` describes the rotation the deployment configures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from releasegate.config.reader import Durations, Table, read_durations

WRITE_ID = "{write.id}"
WRITE_PREFIX = "{write.prefix}"
LINE_ID = "{line.id}"


@dataclass(frozen=True)
class WriteRecipe:
    method: str = "POST"
    path: str = ""
    """Where one write goes ("" = the profile names no write: the ledger cannot run)."""
    body: dict[str, Any] = field(default_factory=dict)
    read_path: str = ""
    """A paged GET listing what was written under ``{write.prefix}``."""
    read_items: str = ""
    """Dot path to the list of items in the read answer ("" = the answer is the list)."""
    read_id: str = ""
    """Field of an item that holds the written id."""
    page_size: int = 100
    sql_table: str = ""
    sql_column: str = ""

    @property
    def defined(self) -> bool:
        return bool(self.path)


@dataclass(frozen=True)
class LogRotation:
    max_bytes: int = 0
    """Size at which the deployment rotates the log file (0 = not configured here)."""
    backups: int = 0
    """Rotated files it keeps."""
    path: str = "/releasegate-log-rotation/{line.id}/{line.pad}"
    """A GET that the application logs, carrying ``{line.id}`` (the line's unique id)."""
    pad: int = 2000
    """Characters of padding in ``{line.pad}``: bigger lines, fewer requests."""


@dataclass(frozen=True)
class ReliabilitySettings:
    writes: WriteRecipe = field(default_factory=WriteRecipe)
    reads: tuple[str, ...] = ()
    writers: int = 2
    readers: int = 2
    write_interval_ms: int = 50
    """Each writer sends one write this often."""
    read_interval_ms: int = 200
    """Each reader sends one read this often."""
    request_timeout_s: float = 10.0
    """Client timeout of fault traffic: a write without an answer by then is ``unknown``."""
    unhealthy_command: str = ""
    """A ``[commands]`` entry that makes the application unhealthy ("" = stop its main process
    with SIGSTOP, so that its health check times out)."""
    proxy_fault_s: Durations = field(default_factory=lambda: Durations(6.0, 15.0))
    proxy_latency_ms: int = 200
    log_rotation: LogRotation = field(default_factory=LogRotation)


def _durations(t: Table, key: str, default: Durations) -> Durations:
    value = read_durations(t, key, default)
    if value.ci > value.release:
        raise t.error(key, "needs ci <= release")
    return value


def _writes(t: Table | None) -> WriteRecipe:
    if t is None:
        return WriteRecipe()
    recipe = WriteRecipe(
        method=t.choice("method", ("POST", "PUT", "PATCH"), "POST"), path=t.text("path"),
        body=dict(t.typed("body", dict, {})), read_path=t.text("read_path", ""),
        read_items=t.text("read_items", ""), read_id=t.text("read_id", ""),
        page_size=t.integer("page_size", 100), sql_table=t.text("sql_table", ""),
        sql_column=t.text("sql_column", ""),
    )
    t.finish()
    if WRITE_ID not in repr(recipe.body) + recipe.path:
        raise t.error("body", f"no value carries {WRITE_ID}", "each write needs its unique id")
    if recipe.read_path and not recipe.read_id:
        raise t.error("read_id", "read_path needs read_id: the item field holding the id")
    if bool(recipe.sql_table) != bool(recipe.sql_column):
        raise t.error("sql_table", "give both sql_table and sql_column, or neither")
    if not 1 <= recipe.page_size <= 1000:
        raise t.error("page_size", "must be between 1 and 1000")
    return recipe


def _log_rotation(t: Table | None) -> LogRotation:
    if t is None:
        return LogRotation()
    value = LogRotation(max_bytes=t.integer("max_bytes", 0), backups=t.integer("backups", 0),
                        path=t.text("path", LogRotation.path), pad=t.integer("pad", 2000))
    t.finish()
    if value.max_bytes < 0 or value.backups < 0:
        raise t.error("max_bytes", "must not be negative")
    if LINE_ID not in value.path or not value.path.startswith("/"):
        raise t.error("path", f"a path starting with '/' that carries {LINE_ID}")
    if not 0 <= value.pad <= 8000:
        raise t.error("pad", "must be between 0 and 8000")
    return value


def parse(t: Table) -> ReliabilitySettings:
    settings = ReliabilitySettings(
        writes=_writes(t.table("writes")), reads=tuple(t.str_list("reads", [])),
        writers=t.integer("writers", 2), readers=t.integer("readers", 2),
        write_interval_ms=t.integer("write_interval_ms", 50),
        read_interval_ms=t.integer("read_interval_ms", 200),
        request_timeout_s=t.number("request_timeout_s", 10.0),
        unhealthy_command=t.text("unhealthy_command", ""),
        proxy_fault_s=_durations(t, "proxy_fault_s", Durations(6.0, 15.0)),
        proxy_latency_ms=t.integer("proxy_latency_ms", 200),
        log_rotation=_log_rotation(t.table("log_rotation")),
    )
    t.finish()
    if not (1 <= settings.writers <= 16 and 0 <= settings.readers <= 16):
        raise t.error("writers", "writers 1-16 and readers 0-16")
    for key in ("write_interval_ms", "read_interval_ms"):
        if not 5 <= getattr(settings, key) <= 5000:
            raise t.error(key, "must be between 5 and 5000")
    if not 1 <= settings.request_timeout_s <= 120:
        raise t.error("request_timeout_s", "must be between 1 and 120")
    if not 1 <= settings.proxy_latency_ms <= 5000:
        raise t.error("proxy_latency_ms", "must be between 1 and 5000")
    for path in settings.reads:
        if not path.startswith("/"):
            raise t.error("reads", f"{path!r} must start with '/'")
    return settings
