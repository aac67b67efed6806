"""What a well-behaved error response looks like, and what leaks look like.

Shared by every suite that provokes errors (e2e now, fuzzing and injection later): one
definition of "structured, no stack trace, no SQL text".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

LEAK_PATTERNS: dict[str, re.Pattern[str]] = {
    "python traceback": re.compile(
        r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+"),
    "exception repr": re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception)\(['\"]"),
    "SQL text": re.compile(
        r"\bSELECT\b[\s\S]{0,200}\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|"
        r"\bDELETE\s+FROM\b", re.IGNORECASE),
    "database driver detail": re.compile(
        r"psycopg|sqlalchemy|asyncpg|syntax error at or near|\[SQL:|pg_catalog", re.IGNORECASE),
    "java/go/js stack": re.compile(
        r"\bat [\w.$]+\([\w.]+:\d+\)|goroutine \d+ \[|\n\s+at .+:\d+:\d+"),
}
DEFAULT_FIELDS = {"code": "code", "message": "message", "request_id": "request_id"}
"""Role → the application's own field name in its error bodies."""


def leaks(text: str) -> list[str]:
    return [name for name, pattern in LEAK_PATTERNS.items() if pattern.search(text)]


def body_violations(
    response: httpx.Response, *, request_id_header: str,
    fields: Mapping[str, str] = DEFAULT_FIELDS,
) -> list[str]:
    """Everything wrong with one error response; an empty list means it is well formed.

    ``request_id_header`` is the profile's (``[services.app] request_id_header``)."""
    problems: list[str] = []
    text = response.text
    try:
        body: Any = json.loads(text)
    except ValueError:
        return [f"body is not JSON: {text[:80]!r}"] + [f"leaks {name}" for name in leaks(text)]
    if not isinstance(body, dict):
        return [f"body is {type(body).__name__}, not an object"]
    missing = [name for name in fields.values() if not body.get(name)]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    header_id = response.headers.get(request_id_header)
    if not header_id:
        problems.append(f"no {request_id_header} header")
    elif "request_id" in fields and body.get(fields["request_id"]) != header_id:
        name = fields["request_id"]
        problems.append(f"body {name} {body.get(name)!r} ≠ header {header_id!r}")
    problems.extend(f"leaks {name}" for name in leaks(text))
    return problems
