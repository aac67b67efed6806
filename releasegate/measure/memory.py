"""Container memory over time, from the engine's stats stream (one sample a second).

The figure is the one ``docker stats`` shows: the cgroup's usage minus its inactive file cache
(page cache the kernel can drop at once is not the application's memory).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

MB = 1024 * 1024


def used_mb(stats: dict[str, Any]) -> float | None:
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is None:
        return None
    detail = memory.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", 0))
    return float(usage - min(cache, usage)) / MB


@dataclass
class MemorySampler:
    """Reads the engine's stats stream on a thread while a load runs."""

    container: Any
    samples: list[tuple[float, float]] = field(default_factory=list)
    """(monotonic time, MB)."""
    error: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for stats in self.container.stats(stream=True, decode=True):
                if self._stop.is_set():
                    return
                mb = used_mb(stats)
                if mb is not None:
                    self.samples.append((time.monotonic(), mb))
        except Exception as exc:  # the stream ends with the container; say why
            if not self._stop.is_set():
                self.error = f"{type(exc).__name__}: {exc}"

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return list(self.samples)

    def between(self, start: float, end: float) -> list[tuple[float, float]]:
        return [(t, mb) for t, mb in self.samples if start <= t <= end]

    def rate_hz(self, start: float, end: float) -> float:
        inside = self.between(start, end)
        return len(inside) / (end - start) if end > start else 0.0


@dataclass(frozen=True)
class Slope:
    """Least-squares slope of memory over time, with its 95 % confidence interval."""

    mb_per_hour: float
    low: float
    high: float
    samples: int


def slope(samples: list[tuple[float, float]]) -> Slope | None:
    """Ordinary least squares of MB on hours; the interval uses Student's t (normal beyond 30
    degrees of freedom). None with fewer than 3 samples or no spread in time."""
    n = len(samples)
    if n < 3:
        return None
    xs = [t / 3600.0 for t, _ in samples]
    ys = [mb for _, mb in samples]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    residual = sum((y - (my + b * (x - mx))) ** 2 for x, y in zip(xs, ys, strict=True))
    se = math.sqrt(residual / (n - 2) / sxx)
    t = _t95(n - 2)
    return Slope(b, b - t * se, b + t * se, n)


def _t95(dof: int) -> float:
    table = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
             10: 2.23, 15: 2.13, 20: 2.09, 25: 2.06, 30: 2.04}
    if dof > 30:
        return 1.96
    return table.get(dof) or table[max(k for k in table if k <= dof)]


def memory_check(fit: Slope | None, limit: float, *, short: bool, headroom_mb: float,
                 horizon_h: float) -> tuple[bool | None, str]:
    """(passed, detail), passed None when this soak cannot decide.

    The slope's 95 % interval entirely below the limit passes. A full-length soak fails a slope
    whose interval lies above it. A short soak (CI) sees an application still warming up (caches
    and pools fill over the first minutes: a slope that flattens later), so it fails only a leak
    that would use up the memory limit's headroom within the release soak's duration; slower
    growth is left to the release soak."""
    if fit is None:
        return None, "too few memory samples after the warm-up"
    detail = (f"{fit.mb_per_hour:.1f} MB/h, 95 % CI [{fit.low:.1f}, {fit.high:.1f}] over "
              f"{fit.samples} samples")
    if fit.high < limit:
        return True, detail
    if not short:
        return (False, detail) if fit.low >= limit else (None, detail + f" straddles "
                                                          f"{limit:g} MB/h")
    if headroom_mb <= 0:
        return False, detail + ": the memory limit is already exceeded"
    if fit.low * horizon_h > headroom_mb:
        return False, (detail + f": at that rate the {headroom_mb:.0f} MB left below the "
                       f"memory limit are gone within {horizon_h:g} h")
    return None, (detail + f": above {limit:g} MB/h but this short soak cannot tell a leak "
                  "from an application warming up; the release soak (--durations release) "
                  "decides it")
