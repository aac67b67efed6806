"""What every dynamic security test does the same way: read the operations, give up precisely
when it cannot, and say how long its part took."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

import releasegate
from releasegate.measure.security.openapi import Operation, SchemaProblem, fetch, operations


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


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 1)


@contextmanager
def timed(request: Any, part: str) -> Iterator[Stopwatch]:
    """Time one part of the suite; printed on the terminal past output capture (the caller
    also keeps ``elapsed()`` in its evidence)."""
    watch = Stopwatch()
    try:
        yield watch
    finally:
        plugins = request.config.pluginmanager
        reporter = plugins.get_plugin("terminalreporter")
        capture = plugins.get_plugin("capturemanager")
        if reporter is not None:
            # Past output capture (which holds fd 1 while a test runs), like pytest's own -s.
            if capture is not None:
                with capture.global_and_fixture_disabled():
                    reporter.write_line(f"[security] {part}: {watch.elapsed():.1f} s")
            else:
                reporter.write_line(f"[security] {part}: {watch.elapsed():.1f} s")


def payload_folder(profile: Any) -> Path:
    """The profile's [injection] payloads folder, else this repository's security/payloads."""
    configured: Path | None = profile.section("injection").payloads
    return configured or Path(releasegate.__file__).resolve().parents[1] / "security" / "payloads"
