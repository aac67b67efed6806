"""Masking the run's secrets wherever evidence is written — the one redactor of the harness.

Every generated secret doubles as a canary: it must never reach a report, an attachment or a
raw measurement file, even when a suite records something it should not have. Measurement files
are redacted as they are written; reports apply the same redactor to the whole summary tree
before any writer sees it, and to the text of copied attachments, which never pass through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Redactor = Callable[[str], str]
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words


def identity(text: str) -> str:
    return text


def secret_redactor(secrets: Mapping[str, str]) -> Redactor:
    pairs = sorted(((v, k) for k, v in secrets.items() if len(v) >= MIN_SECRET_LENGTH),
                   key=lambda pair: -len(pair[0]))
    if not pairs:
        return identity

    def redact(text: str) -> str:
        for value, name in pairs:
            text = text.replace(value, f"«secret:{name}»")
        return text

    return redact


def redact_tree(value: Any, redact: Redactor) -> Any:
    """A copy of a JSON-like value with every string, keys included, passed through ``redact``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            (redact(k) if isinstance(k, str) else k): redact_tree(v, redact)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_tree(item, redact) for item in value]
    return value
