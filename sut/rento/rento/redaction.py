"""Masking of personal data and secrets before anything is written to a log or an alert.

The patterns are deliberately greedy: a masked harmless number costs nothing, a leaked phone
number or token is an incident. Order matters: URLs and tokens first (they may contain digits and
@ signs), then e-mail addresses, ID-card numbers, and finally phone-like digit runs.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Iterable, List, Pattern, Tuple

MASK = "***"

_PATTERNS: List[Tuple[Pattern[str], str]] = [
    # scheme://user:password@host -> scheme://user:***@host (database and webhook URLs)
    (re.compile(r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)"), r"\g<pre>***"),
    # Authorization: Bearer <token>
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    # password=..., "secret": "...", token: ..., api_key=... (JSON, query strings, key=value)
    (
        re.compile(
            r"(?i)(\b[\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key|authorization)[\w-]*"
            r"[\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]+)"
        ),
        r"\1***",
    ),
    # e-mail addresses
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]"),
    # mainland China resident ID card: 17 digits + digit or X
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "[id_card]"),
    # mainland China mobile numbers, optionally with +86 / 86 prefix
    (re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d{9}(?!\d)"), "[phone]"),
    # other phone-like numbers: grouped (010-12345678, 555 123 4567) or 7+ digit runs
    (
        re.compile(
            r"(?<![\w.-])\+?(?:\d{3,4}-\d{7,8}|\d{3}[\s-]\d{3,4}[\s-]\d{4}|\d{7,15})(?![\w.-])"
        ),
        "[phone]",
    ),
]

_secret_lock = threading.Lock()
_secret_values: Tuple[str, ...] = ()


def register_secret_values(values: Iterable[str]) -> None:
    """Mask these exact strings everywhere (configured secret key, DB password, ...).

    Short values are ignored: masking every "a" in the log would make it unreadable and a secret
    that short is refused at start-up anyway.
    """
    global _secret_values
    with _secret_lock:
        merged = set(_secret_values) | {v for v in values if v and len(v) >= 6}
        # Longest first so that a secret containing another one is masked as a whole.
        _secret_values = tuple(sorted(merged, key=len, reverse=True))


def redact(text: str) -> str:
    """Return ``text`` with secrets and personal data masked."""
    if not text:
        return text
    for secret in _secret_values:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """Redact strings inside arbitrary JSON-like values; other scalars pass through."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value
