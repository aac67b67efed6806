"""Reading what the application logged: JSON lines, found by request id."""

from __future__ import annotations

import json
from typing import Any

LEVEL_KEYS = ("level", "levelname", "severity", "lvl")


def json_entries(text: str) -> list[dict[str, Any]]:
    """Every line that is a JSON object (docker timestamps in front are tolerated)."""
    entries: list[dict[str, Any]] = []
    for line in text.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            entry = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def entries_for(text: str, request_id: str) -> list[dict[str, Any]]:
    return [e for e in json_entries(text) if request_id in json.dumps(e)]


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
