"""Reading what the application logged, where and how the profile says it logs.

Source: the engine's log of stdout and stderr, or the application's log file read inside its
container. Format: one JSON object per line, or plain text matched by the profile's pattern
(named groups ``level`` and, optionally, ``request_id``).
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from typing import Any

from releasegate.config.profile import AppService
from releasegate.config.recipes import LogSettings

LEVEL_KEYS = ("level", "levelname", "severity", "lvl")
ERROR_LEVELS = frozenset({"error", "err", "critical", "crit", "fatal", "alert", "emerg",
                          "emergency", "panic", "severe"})


@dataclass(frozen=True)
class LogEntry:
    line: str
    level: str
    """Lower-case; empty when the entry names none."""
    request_id: str | None = None
    """The entry's own request-id field where the format names one; else the line is searched."""
    fields: dict[str, Any] = field(default_factory=dict)

    def carries(self, request_id: str) -> bool:
        if self.request_id is not None:
            return self.request_id == request_id
        return request_id in self.line

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS


def parse(text: str, settings: LogSettings) -> list[LogEntry]:
    """Every line that is an entry in the profile's format; other lines (a traceback's
    continuation, a banner) are not entries."""
    if settings.format == "text":
        return _text_entries(text, re.compile(settings.pattern or ""))
    entries: list[LogEntry] = []
    for line in text.splitlines():
        start = line.find("{")  # docker timestamps in front are tolerated
        if start < 0:
            continue
        try:
            entry = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(LogEntry(json.dumps(entry), level_of(entry), None, entry))
    return entries


def _text_entries(text: str, pattern: re.Pattern[str]) -> list[LogEntry]:
    named_id = "request_id" in pattern.groupindex
    entries: list[LogEntry] = []
    for line in text.splitlines():
        match = pattern.search(line)
        if match is None:
            continue
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        entries.append(LogEntry(line, str(groups.get("level", "")).strip().lower(),
                                groups.get("request_id", "") if named_id else None, groups))
    return entries


def entries_for(text: str, request_id: str, settings: LogSettings) -> list[LogEntry]:
    return [e for e in parse(text, settings) if e.carries(request_id)]


def level_of(entry: dict[str, Any]) -> str:
    for key in LEVEL_KEYS:
        if key in entry:
            return str(entry[key]).lower()
    return ""


def container_logs(container: Any, *, since: float | None = None) -> str:
    kwargs: dict[str, Any] = {"stdout": True, "stderr": True}
    if since is not None:
        kwargs["since"] = int(since) - 1
    return bytes(container.logs(**kwargs)).decode("utf-8", "replace")


def file_in_container(container: Any, path: str) -> str:
    """A file's text, read through the engine (no shell or ``cat`` needed in the image)."""
    import docker.errors

    try:
        chunks, _ = container.get_archive(path)
    except docker.errors.NotFound:
        return ""
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as archive:
        member = archive.getmembers()[0]
        handle = archive.extractfile(member)
        return handle.read().decode("utf-8", "replace") if handle is not None else ""


class AppLog:
    """The application's log as its profile describes it."""

    def __init__(self, container: Any, app: AppService) -> None:
        self.container = container
        self.settings = app.logs
        self.log_file = app.log_file

    @property
    def source(self) -> str:
        where = (f"the log file {self.log_file} read in the app container"
                 if self.settings.source == "file" else "the app's stdout log (docker logs)")
        return f"{where}, {self.settings.format} lines"

    def read(self, *, since: float | None = None) -> str:
        """The log text; a file is read whole (request ids are unique, so ``since`` is moot)."""
        if self.settings.source == "file" and self.log_file:
            return file_in_container(self.container, self.log_file)
        return container_logs(self.container, since=since)

    def entries_for(self, text: str, request_id: str) -> list[LogEntry]:
        return entries_for(text, request_id, self.settings)
