"""Waiting for an HTTP health endpoint: whether, and how soon, it answers 200.

The polling itself is the one PERF-CONTAINER-START is measured with
(:mod:`releasegate.evidence.container_start`), so a start the stack waits for and a restart a
suite times are seen the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from releasegate.evidence.container_start import first_200


@dataclass
class HealthWait:
    healthy_after_s: float | None
    waited_s: float
    last_status: int | None
    last_error: str


def wait_healthy(
    url: str, *, timeout: float, interval: float = 0.2,
    still_running: Callable[[], bool] | None = None,
) -> HealthWait:
    """Poll ``url`` until it answers 200; seconds from now until the 200 had arrived."""
    began = time.time()
    arrival = first_200(url, timeout=timeout, interval=interval, still_running=still_running)
    after = None if arrival.arrived_at is None else arrival.arrived_at - began
    return HealthWait(after, arrival.ended_at - began, arrival.last_status, arrival.last_error)
