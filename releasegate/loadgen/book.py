"""One worker's tally, cut into windows of ``window_s`` seconds that travel to the master.

Each window holds, per endpoint, three HDR histograms — corrected latency (from the intended
send time), raw latency (from the actual send) and the server's own duration where it said one —
plus status counts, and the generator's view of itself: sends that left late because every
client was busy, and how late the worker woke up for a send it was waiting for (its own lag).
No percentile is computed here; the histograms are sent encoded and merged losslessly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from releasegate.loadgen import hdr

TRANSPORT_ERROR = 0
"""The status recorded for a request that got no HTTP answer (refused, reset, timed out)."""


@dataclass
class _Endpoint:
    corrected: HdrHistogram = field(default_factory=hdr.new)
    raw: HdrHistogram = field(default_factory=hdr.new)
    server: HdrHistogram = field(default_factory=hdr.new)
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class _Window:
    endpoints: dict[str, _Endpoint] = field(default_factory=dict)
    intended: int = 0
    backlog: int = 0
    lag: HdrHistogram = field(default_factory=hdr.new)
    dropped: int = 0


class Book:
    """Windows keyed by index since ``start`` (a monotonic time); ``flush`` hands closed ones."""

    def __init__(self, *, start: float, window_s: float, worker: int) -> None:
        self.start = start
        self.window_s = window_s
        self.worker = worker
        self._windows: dict[int, _Window] = {}

    def _window(self, when: float) -> _Window:
        index = max(0, int((when - self.start) // self.window_s))
        window = self._windows.get(index)
        if window is None:  # not setdefault: a histogram is too costly to build per request
            window = self._windows[index] = _Window()
        return window

    def intended(self, when: float, *, backlog_s: float, lag_s: float | None) -> None:
        """A send is about to leave for intended time ``when``: ``backlog_s`` late because no
        client was free, or (``lag_s``) woken that late by the generator itself."""
        window = self._window(when)
        window.intended += 1
        if backlog_s > 0.0:
            window.backlog += 1
        if lag_s is not None:
            hdr.record_seconds(window.lag, max(lag_s, 0.0))

    def dropped(self, when: float, count: int) -> None:
        self._window(when).dropped += count

    def record(self, name: str, *, done: float, corrected_s: float, raw_s: float, status: int,
               server_ms: float | None) -> None:
        endpoints = self._window(done).endpoints
        endpoint = endpoints.get(name)
        if endpoint is None:
            endpoint = endpoints[name] = _Endpoint()
        hdr.record_seconds(endpoint.corrected, corrected_s)
        hdr.record_seconds(endpoint.raw, raw_s)
        if server_ms is not None:
            hdr.record_seconds(endpoint.server, server_ms / 1000.0)
        key = str(status)
        endpoint.statuses[key] = endpoint.statuses.get(key, 0) + 1

    def flush(self, now: float | None) -> list[dict[str, Any]]:
        """Every window that ended before ``now`` (all of them when ``now`` is None), as data."""
        ready = sorted(i for i in self._windows
                       if now is None or self.start + (i + 1) * self.window_s <= now)
        out = []
        for index in ready:
            window = self._windows.pop(index)
            out.append({
                "worker": self.worker, "w": index,
                "intended": window.intended, "backlog": window.backlog,
                "dropped": window.dropped, "lag": hdr.encode(window.lag),
                "endpoints": {
                    name: {"corrected": hdr.encode(e.corrected), "raw": hdr.encode(e.raw),
                           "server": hdr.encode(e.server), "statuses": e.statuses}
                    for name, e in window.endpoints.items()},
            })
        return out
