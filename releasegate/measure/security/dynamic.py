"""What every dynamic probe (authorization, fuzzing, SQL injection, XSS) does the same way: read
the operations, give up precisely when it cannot, find its payloads, say how long it took."""

from __future__ import annotations

import importlib.resources
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from releasegate.measure.api import Api
from releasegate.measure.security.openapi import Operation, SchemaProblem, fetch, operations
from releasegate.measure.security.support import announce


def load_operations(client: httpx.Client, openapi_path: str) -> tuple[dict[str, Any],
                                                                       list[Operation]]:
    """The document and its operations; SchemaProblem (one line) when it is not usable."""
    document = fetch(client, openapi_path)
    return document, operations(document)


def insufficient(record: Any, criteria: tuple[str, ...], reason: str) -> None:
    for cid in criteria:
        record.insufficient(cid, reason)


def schema_or_insufficient(record: Any, client: httpx.Client, openapi_path: str,
                           criteria: tuple[str, ...]) -> tuple[dict[str, Any],
                                                               list[Operation]] | None:
    """The operations, or None after recording every criterion insufficient with the one-line
    reason (the document is the input of every probe: without it nothing was examined)."""
    try:
        return load_operations(client, openapi_path)
    except SchemaProblem as exc:
        insufficient(record, criteria, f"the OpenAPI document is not usable: {exc}")
        return None


def probe_inputs(record: Any, client: httpx.Client, openapi_path: str, login: Any,
                 criteria: tuple[str, ...], what: str) -> tuple[dict[str, Any],
                                                             list[Operation], Api] | None:
    """What every dynamic probe needs before it sends anything: the document, its operations
    and the admin session. Without one of them, every criterion is recorded insufficient with
    the one-line reason."""
    loaded = schema_or_insufficient(record, client, openapi_path, criteria)
    if loaded is None:
        return None
    if login.api is None:
        insufficient(record, criteria, f"no session to {what} with: {login.failure}")
        return None
    return (*loaded, login.api)


def payload_folder(profile: Any) -> Path:
    """The profile's [injection] payloads folder, else the dictionaries shipped with
    releasegate (security/payloads in this repository)."""
    configured: Path | None = profile.section("injection").payloads
    if configured is not None:
        return configured
    return Path(str(importlib.resources.files("releasegate.security_data") / "payloads"))


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 1)


@contextmanager
def timed(request: Any, part: str) -> Iterator[Stopwatch]:
    """Time one part of the suite; announced past output capture when it ends (the caller
    also keeps ``elapsed()`` in its evidence)."""
    watch = Stopwatch()
    try:
        yield watch
    finally:
        announce(request.config, f"security: {part} took {watch.elapsed():.1f} s")
