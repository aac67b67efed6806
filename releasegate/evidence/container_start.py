"""When a container started and when it first answered: the observation behind
PERF-CONTAINER-START, made the same way for the stack's first start and for every restart.

Two clocks meet here. The engine stamps ``State.StartedAt`` (RFC 3339 with nanoseconds, on the
engine's wall clock); the harness notes the *arrival* of the first HTTP 200 on its own wall clock
(``time.time()`` once the response has been read, not when the request went out). On one host
they are the same clock. An engine elsewhere (``DOCKER_HOST=tcp://…``) may run ahead or behind,
so the offset between the two is measured through the engine's ``SystemTime`` and corrected
whenever it is larger than the uncertainty of that measurement.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$")
POLL_INTERVAL_S = 0.2
REQUEST_TIMEOUT_S = 2.0


def parse_engine_time(text: str) -> float:
    """Seconds since the epoch of an engine timestamp (``2026-11-21T10:00:01.123456789Z``).

    Go's RFC3339Nano drops trailing zeros, so the fraction has 0 to 9 digits. The zero time
    (``0001-01-01T00:00:00Z``, a container never started) is not a time: ValueError."""
    match = _RFC3339.match(text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    if year <= 1:
        raise ValueError(f"the engine reports the zero time {text!r}: the container never started")
    zone = match[8]
    if zone in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    whole = datetime(year, month, day, hour, minute, second, tzinfo=tz).timestamp()
    fraction = match[7] or ""
    return whole + (int(fraction[:9].ljust(9, "0")) / 1e9 if fraction else 0.0)


@dataclass(frozen=True)
class ClockOffset:
    """The engine's clock minus the harness's, and how exactly that is known."""

    seconds: float = 0.0
    uncertainty_s: float = 0.0
    known: bool = False
    note: str = ""

    @property
    def significant(self) -> bool:
        """Only an offset larger than its own measuring error is corrected for."""
        return self.known and abs(self.seconds) > self.uncertainty_s


def measure_offset(engine_time: Callable[[], str],
                   clock: Callable[[], float] = time.time) -> ClockOffset:
    """Read the engine's clock between two readings of ours: the engine's answer was made at
    the midpoint, give or take half the round trip."""
    try:
        before = clock()
        text = engine_time()
        after = clock()
        engine = parse_engine_time(text)
    except Exception as exc:  # an engine without SystemTime: say so, assume one clock
        return ClockOffset(note=f"engine clock unreadable ({type(exc).__name__}: {exc}); "
                                "assumed equal to the harness's")
    return ClockOffset(engine - (before + after) / 2, (after - before) / 2, True)


@dataclass(frozen=True)
class Arrival:
    """The first 200 on a URL, timed on the harness's wall clock when it had been read."""

    arrived_at: float | None
    ended_at: float
    """Harness wall clock when waiting stopped (the arrival, a timeout or an exit)."""
    polls: int
    last_status: int | None
    last_error: str
    first_poll: bool = False
    """The very first request already got the 200: the start may have been quicker still."""


def first_200(url: str, *, timeout: float, interval: float = POLL_INTERVAL_S,
              still_running: Callable[[], bool] | None = None) -> Arrival:
    """Poll ``url`` until it answers 200, for at most ``timeout`` seconds (monotonic)."""
    deadline = time.monotonic() + timeout
    last_status: int | None = None
    last_error = ""
    polls = 0
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        while True:
            polls += 1
            try:
                response = client.get(url)
                response.read()
                arrived = time.time()
                last_status, last_error = response.status_code, ""
                if response.status_code == 200:
                    return Arrival(arrived, arrived, polls, 200, "", first_poll=polls == 1)
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if still_running is not None and not still_running():
                return Arrival(None, time.time(), polls, last_status,
                               last_error or "the container exited")
            if time.monotonic() >= deadline:
                return Arrival(None, time.time(), polls, last_status, last_error)
            time.sleep(interval)


@dataclass(frozen=True)
class StartObservation:
    """One start of a container, from the engine's StartedAt to its first healthy answer."""

    url: str
    started_at: str
    """``State.StartedAt`` as the engine reported it."""
    arrived_at: float | None
    """Harness wall clock (epoch seconds) when the first 200 had arrived; None if it never did."""
    seconds: float | None
    """StartedAt → arrival; None when it never answered or the clocks cannot be reconciled."""
    waited_s: float
    """StartedAt → the end of waiting: a lower bound of the start time when it never answered."""
    offset_s: float
    offset_uncertainty_s: float
    offset_note: str
    corrected: bool
    polls: int
    last_status: int | None
    last_error: str
    first_poll: bool
    problem: str = ""
    """Why no start time can be claimed from this observation ("" when one can)."""

    @property
    def healthy(self) -> bool:
        return self.arrived_at is not None


def reconcile(url: str, started_at: str, arrival: Arrival, offset: ClockOffset) -> StartObservation:
    """Put the engine's StartedAt and the harness's arrival on one clock and subtract."""
    common: dict[str, Any] = {
        "url": url, "started_at": started_at, "arrived_at": arrival.arrived_at,
        "offset_s": round(offset.seconds, 6), "offset_uncertainty_s":
        round(offset.uncertainty_s, 6), "offset_note": offset.note,
        "corrected": offset.significant, "polls": arrival.polls,
        "last_status": arrival.last_status, "last_error": arrival.last_error,
        "first_poll": arrival.first_poll,
    }
    try:
        started = parse_engine_time(started_at)
    except ValueError as exc:
        return StartObservation(seconds=None, waited_s=0.0, problem=str(exc), **common)
    if offset.significant:
        started -= offset.seconds  # the engine's instant on the harness's clock
    waited = arrival.ended_at - started
    slack = max(offset.uncertainty_s, 0.0) + 0.001
    if waited < -slack:
        return StartObservation(
            seconds=None, waited_s=waited, **common,
            problem=f"the harness saw the end of waiting {-waited:.3f} s before the engine's "
                    "StartedAt: the two clocks disagree beyond what was measured")
    seconds = None if arrival.arrived_at is None else max(0.0, arrival.arrived_at - started)
    return StartObservation(seconds=seconds, waited_s=max(0.0, waited), **common)


def observe_start(container: Any, url: str, *, timeout: float,
                  interval: float = POLL_INTERVAL_S,
                  still_running: Callable[[], bool] | None = None) -> StartObservation:
    """Time a start that has just happened: read StartedAt (docker inspect), measure the
    clocks' offset, then wait for the first 200 on ``url``. Call it right after the start."""
    container.reload()
    started_at = str((container.attrs.get("State") or {}).get("StartedAt") or "")
    client = getattr(container, "client", None)
    offset = (measure_offset(lambda: str(client.info()["SystemTime"])) if client is not None
              else ClockOffset(note="no engine client to read its clock from; assumed equal"))
    arrival = first_200(url, timeout=timeout, interval=interval, still_running=still_running)
    return reconcile(url, started_at, arrival, offset)
