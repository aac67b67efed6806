"""A strict reader over a parsed TOML table: every key is claimed, every error says where.

Profiles are written by hand; a typo must never fall through to a default. The reader records
which keys were taken and ``finish()`` reports the rest as unknown, with the keys that exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from releasegate.errors import ConfigError

T = TypeVar("T")
_MISSING = object()


class Table:
    def __init__(self, data: dict[str, Any], *, file: Path, where: str = "",
                 overridden: dict[str, str] | None = None) -> None:
        self.data = data
        self.file = file
        self.where = where
        self.overridden = overridden if overridden is not None else {}
        """Raw ``--set`` text by dotted key path: a string key keeps exactly what was typed."""
        self._taken: set[str] = set()

    def _raw(self, key: str, value: object) -> object:
        """An overridden value as typed when it was read as something other than a string."""
        raw = self.overridden.get(self.key_path(key))
        return raw if raw is not None and not isinstance(value, str) else value

    def key_path(self, key: str) -> str:
        if not key:
            return self.where
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, problem: str, expected: str = "") -> ConfigError:
        return ConfigError(
            f"{self.file}: {self.key_path(key)}: {problem}", hint=expected or "see README"
        )

    def _get(self, key: str, default: object) -> object:
        self._taken.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(key, "missing required key", "add it to the profile")
        return default

    def typed(self, key: str, kind: type[T] | tuple[type, ...], default: object = _MISSING) -> T:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value  # type: ignore[return-value]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # TOML integers are acceptable where a float is asked for; booleans never are numbers.
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            return float(value)  # type: ignore[return-value]
        if isinstance(value, bool) and bool not in kinds:
            value_ok = False
        else:
            value_ok = isinstance(value, kinds)
        if not value_ok:
            names = " or ".join(k.__name__ for k in kinds)
            raise self.error(key, f"expected {names}, got {type(value).__name__} {value!r}")
        return value  # type: ignore[return-value]

    def value(self, key: str, default: object = _MISSING) -> Any:
        """Any TOML value, as written (a request body, an expected answer)."""
        return self._get(key, default)

    def text(self, key: str, default: object = _MISSING) -> Any:
        raw = self._raw(key, self.data[key]) if key in self.data else None
        if isinstance(raw, str):
            self._taken.add(key)
            return raw
        return self.typed(key, str, default)

    def integer(self, key: str, default: object = _MISSING) -> Any:
        return self.typed(key, int, default)

    def number(self, key: str, default: object = _MISSING) -> Any:
        return self.typed(key, float, default)

    def flag(self, key: str, default: object = _MISSING) -> Any:
        return self.typed(key, bool, default)

    def choice(self, key: str, choices: Iterable[str], default: object = _MISSING) -> Any:
        options = list(choices)
        value = self.text(key, default)
        if value not in options and not (value is default and default is not _MISSING):
            raise self.error(key, f"{value!r} is not allowed", f"use one of: {', '.join(options)}")
        return value

    def str_list(self, key: str, default: object = _MISSING) -> Any:
        value = self.typed(key, list, default)
        if value is default and default is not _MISSING:
            return value
        if not all(isinstance(item, str) for item in value):
            raise self.error(key, "expected a list of strings")
        return list(value)

    def str_map(self, key: str) -> dict[str, str]:
        table = self.typed(key, dict, {})
        out: dict[str, str] = {}
        for k, v in table.items():
            v = self._raw(f"{key}.{k}", v)
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                raise self.error(f"{key}.{k}", f"expected a string, got {type(v).__name__}")
            out[k] = str(v)
        return out

    def table(self, key: str, *, required: bool = False) -> Table | None:
        value = self._get(key, _MISSING if required else None)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {type(value).__name__}")
        return Table(value, file=self.file, where=self.key_path(key), overridden=self.overridden)

    def tables(self, key: str) -> dict[str, Table]:
        outer = self.table(key)
        if outer is None:
            return {}
        result: dict[str, Table] = {}
        for name in list(outer.data):
            inner = outer.table(name, required=True)
            assert inner is not None
            result[name] = inner
        outer.finish()
        return result

    def finish(self) -> None:
        unknown = [k for k in self.data if k not in self._taken]
        if unknown:
            key = unknown[0]
            guess = difflib.get_close_matches(key, sorted(self._taken), n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else ""
            known = ", ".join(sorted(self._taken))
            raise self.error(key, "unknown key", f"{hint} known keys here: {known}".strip())


@dataclass(frozen=True)
class Durations:
    """Seconds for ``--durations ci`` and ``--durations release``."""

    ci: float
    release: float

    def of(self, mode: str) -> float:
        return self.release if mode == "release" else self.ci


def read_durations(t: Table, key: str, default: Durations) -> Durations:
    """``key = 60`` (both modes) or ``key = { ci = 60, release = 900 }``; positive."""
    value: dict[str, Any] | float | None = t.typed(key, (dict, float), None)
    if value is None:
        return default
    if isinstance(value, float):
        result = Durations(value, value)
    else:
        inner = Table(value, file=t.file, where=t.key_path(key))
        result = Durations(inner.number("ci", default.ci),
                           inner.number("release", default.release))
        inner.finish()
    if min(result.ci, result.release) <= 0:
        raise t.error(key, "durations must be positive", "e.g. { ci = 60, release = 900 }")
    return result
