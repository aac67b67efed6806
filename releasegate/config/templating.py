"""Fills ``{db.user}``-style placeholders in profile values with this run's real values."""

from __future__ import annotations

import re
from collections.abc import Mapping

from releasegate.errors import ConfigError

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\}")


def render(template: str, values: Mapping[str, str], *, where: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            known = ", ".join(sorted(values))
            raise ConfigError(
                f"{where}: unknown placeholder {{{key}}}", hint=f"known placeholders: {known}"
            )
        return values[key]

    return _PLACEHOLDER.sub(substitute, template)


def render_all(templates: Mapping[str, str], values: Mapping[str, str], *, where: str) -> dict[
    str, str
]:
    return {k: render(v, values, where=f"{where}.{k}") for k, v in templates.items()}


def render_argv(argv: list[str], values: Mapping[str, str], *, where: str) -> list[str]:
    return [render(arg, values, where=where) for arg in argv]
