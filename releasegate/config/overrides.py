"""``--set key.path=value`` overrides applied to a parsed profile before validation."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

from releasegate.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def parse_value(text: str) -> Any:
    """A TOML value if it parses as one (numbers, booleans, arrays), else the raw string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(
    data: dict[str, Any], overrides: list[str], *, file: Path
) -> tuple[dict[str, Any], dict[str, str]]:
    """The data with every override applied, and the raw text given for each overridden key.

    The raw text lets a key whose schema says string keep what was typed: ``python=3.10`` parses
    as the number 3.1, but the profile reader takes ``"3.10"`` for a string key."""
    if not overrides:
        return data, {}
    result = copy.deepcopy(data)
    texts: dict[str, str] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY.PATH=VALUE",
                              hint="e.g. --set stack.health_timeout_s=30")
        parts = key.strip().split(".")
        node = result
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item!r}: {part} in {file} is not a table",
                                  hint="override a leaf key")
            node = child
        node[parts[-1]] = parse_value(value)
        texts[".".join(parts)] = value.strip()
    return result, texts
