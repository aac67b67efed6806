"""Availability as a client sees it: the health path probed once a second on a fixed timetable.

A second counts as available only when its probe answered 200 within the timeout; a second whose
probe could not even be sent (the previous one was still waiting) counts as unavailable, so a
hanging service cannot hide behind slow probes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Probe:
    at: float
    """Seconds since the prober started."""
    status: int
    """HTTP status; 0 for no answer (refused, reset, timed out) or a skipped second."""
    ms: float | None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class HealthProber:
    base_url: str
    path: str
    timeout_s: float = 2.0
    interval_s: float = 1.0
    probes: list[Probe] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> HealthProber:
        self._thread = threading.Thread(target=self._run, name="health-prober", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        tick = 0
        with httpx.Client(base_url=self.base_url, timeout=self.timeout_s) as client:
            while not self._stop.is_set():
                due = started + tick * self.interval_s
                now = time.monotonic()
                if now < due:
                    self._stop.wait(due - now)
                    continue
                behind = int((now - due) // self.interval_s)
                for missed in range(behind):  # seconds the previous probe held up
                    self.probes.append(Probe((tick + missed) * self.interval_s, 0, None,
                                             "not probed: the previous probe was still waiting"))
                tick += behind
                self.probes.append(self._probe(client, tick * self.interval_s))
                tick += 1

    def _probe(self, client: httpx.Client, at: float) -> Probe:
        sent = time.monotonic()
        try:
            status = client.get(self.path).status_code
            note = ""
        except httpx.HTTPError as exc:
            status, note = 0, type(exc).__name__
        return Probe(at, status, (time.monotonic() - sent) * 1000.0, note)

    def stop(self) -> list[Probe]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 2)
        return list(self.probes)
