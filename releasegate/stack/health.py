"""Waiting for an HTTP health endpoint, timing from when the container was started."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass
class HealthWait:
    healthy_after_s: float | None
    waited_s: float
    last_status: int | None
    last_error: str


def wait_healthy(
    url: str, *, started_at: float, timeout: float, interval: float = 0.2,
    still_running: Callable[[], bool] | None = None,
) -> HealthWait:
    """Poll ``url`` until it answers 200. ``started_at`` is a time.monotonic() reading."""
    deadline = started_at + timeout
    last_status: int | None = None
    last_error = ""
    with httpx.Client(timeout=2.0) as client:
        while True:
            now = time.monotonic()
            try:
                response = client.get(url)
                last_status, last_error = response.status_code, ""
                if response.status_code == 200:
                    return HealthWait(now - started_at, now - started_at, 200, "")
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if still_running is not None and not still_running():
                last_error = last_error or "the container exited"
                return HealthWait(None, time.monotonic() - started_at, last_status, last_error)
            if time.monotonic() >= deadline:
                return HealthWait(None, time.monotonic() - started_at, last_status, last_error)
            time.sleep(interval)
