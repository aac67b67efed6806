"""Fills ``{db.user}``-style placeholders in profile values with this run's real values.

``{{`` and ``}}`` stand for literal braces, so a value may carry JSON, a regex or a shell
``${VAR}`` without being mistaken for a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from releasegate.errors import ConfigError

NAME = r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*"
_TOKEN = re.compile(r"\{\{|\}\}|\{(" + NAME + r")\}")
_SINGLE = re.compile(r"\{(" + NAME + r")\}")


def render(template: str, values: Mapping[str, str], *, where: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key is None:  # an escaped brace
            return match.group(0)[0]
        if key not in values:
            known = ", ".join(sorted(values))
            raise ConfigError(
                f"{where}: unknown placeholder {{{key}}}", hint=f"known placeholders: {known}"
            )
        return values[key]

    return _TOKEN.sub(substitute, template)


def placeholders(template: str) -> list[str]:
    """The placeholder names a value uses, escaped braces excepted."""
    return [m.group(1) for m in _TOKEN.finditer(template) if m.group(1) is not None]


def sole_placeholder(template: str) -> str | None:
    """The name when the whole value is one placeholder (``"{building_id}"``), else None."""
    match = _SINGLE.fullmatch(template)
    return match.group(1) if match else None


def strings_in(value: Any) -> list[str]:
    """Every string inside a TOML value (tables and arrays walked)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def render_tree(value: Any, values: Mapping[str, str], *, where: str) -> Any:
    """Every string inside a TOML value rendered; numbers, booleans and the shape kept."""
    if isinstance(value, str):
        return render(value, values, where=where)
    if isinstance(value, dict):
        return {k: render_tree(v, values, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render_tree(v, values, where=where) for v in value]
    return value


def render_all(templates: Mapping[str, str], values: Mapping[str, str], *, where: str) -> dict[
    str, str
]:
    return {k: render(v, values, where=f"{where}.{k}") for k, v in templates.items()}


def render_argv(argv: list[str], values: Mapping[str, str], *, where: str) -> list[str]:
    return [render(arg, values, where=where) for arg in argv]
