"""Redaction of every string a report writes.

A summary holds secrets only by mistake (a connection string in an error message, a token in a
log line). Reports are shared far more widely than the machine that ran the checks, so the
redactor is applied to the whole data tree before any writer sees it, and to the text of copied
attachments, which never pass through that tree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Redactor = Callable[[str], str]


def identity(text: str) -> str:
    return text


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
