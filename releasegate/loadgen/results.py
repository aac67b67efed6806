"""A load run read back from the master's files: merged histograms, per-second series, and the
generator's account of itself.

Windows of every worker are merged by adding their HDR histograms, so a p95 here is the p95 of
every request, exactly as one histogram of all samples would give it. The warm-up's windows are
kept for the plots and left out of every figure a criterion is judged on.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hdrh.histogram import HdrHistogram

from releasegate.loadgen import hdr
from releasegate.loadgen.plan import Plan


@dataclass
class Tally:
    """Requests of one endpoint (or of all) over some windows."""

    corrected: HdrHistogram = field(default_factory=hdr.new)
    raw: HdrHistogram = field(default_factory=hdr.new)
    server: HdrHistogram = field(default_factory=hdr.new)
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, data: dict[str, Any]) -> None:
        for key in ("corrected", "raw", "server"):
            if data.get(key):
                getattr(self, key).decode_and_add(data[key].encode("ascii"))
        self.statuses.update({str(k): int(v) for k, v in data["statuses"].items()})

    def merge(self, other: Tally) -> None:
        self.corrected.add(other.corrected)
        self.raw.add(other.raw)
        self.server.add(other.server)
        self.statuses.update(other.statuses)

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        """5xx answers and requests that got no answer at all (status 0)."""
        return sum(n for s, n in self.statuses.items() if s == "0" or s.startswith("5"))

    def describe(self) -> dict[str, Any]:
        return {"requests": self.count, "server_errors": self.server_errors,
                "statuses": dict(sorted(self.statuses.items())),
                "corrected": hdr.summary(self.corrected), "raw": hdr.summary(self.raw),
                "server": hdr.summary(self.server)}


@dataclass
class Second:
    """All workers' requests that completed in one window."""

    index: int
    total: Tally = field(default_factory=Tally)
    endpoints: dict[str, Tally] = field(default_factory=dict)
    intended: int = 0
    backlog: int = 0
    dropped: int = 0
    lag: HdrHistogram = field(default_factory=hdr.new)


@dataclass
class WorkerHealth:
    cpu: list[tuple[float, float]] = field(default_factory=list)
    users: list[tuple[float, int, int | None]] = field(default_factory=list)
    """(t, clients running, TCP connections established) once a second."""
    lag: HdrHistogram = field(default_factory=hdr.new)
    intended: int = 0
    backlog: int = 0
    dropped: int = 0
    done: dict[str, Any] | None = None


@dataclass
class RunResult:
    plan: Plan
    seconds: dict[int, Second]
    workers: dict[int, WorkerHealth]
    folder: Path

    def measured(self) -> list[Second]:
        """Windows after the warm-up, in order."""
        first = int(self.plan.warmup_s / self.plan.window_s)
        return [s for i, s in sorted(self.seconds.items()) if i >= first]

    def clients_held(self, after_s: float, until_s: float) -> tuple[int, int | None]:
        """(clients running at once, TCP connections established at once) over the hold
        window ``[after_s, until_s)``: the minimum, second by second, of the sum over workers.
        The seconds after the hold are the clients stopping, not a failure to hold them."""
        by_second: dict[int, list[tuple[int, int | None]]] = {}
        for worker in self.workers.values():
            for t, users, conns in worker.users:
                if after_s <= t and int(t) < until_s:
                    by_second.setdefault(int(t), []).append((users, conns))
        complete = [v for v in by_second.values() if len(v) == len(self.workers)]
        if not complete:
            return 0, None
        users = min(sum(u for u, _ in v) for v in complete)
        established = [sum(c for _, c in v if c is not None) for v in complete
                       if all(c is not None for _, c in v)]
        return users, (max(established) if established else None)

    def endpoints(self, seconds: list[Second] | None = None) -> dict[str, Tally]:
        out: dict[str, Tally] = {}
        for second in self.measured() if seconds is None else seconds:
            for name, tally in second.endpoints.items():
                _get(out, name, Tally).merge(tally)
        return out

    def overall(self, seconds: list[Second] | None = None) -> Tally:
        total = Tally()
        for second in self.measured() if seconds is None else seconds:
            total.merge(second.total)
        return total

    def windows(self, length_s: float) -> list[tuple[float, Tally]]:
        """Consecutive windows of ``length_s`` after the warm-up: (start second, tally)."""
        per = max(1, round(length_s / self.plan.window_s))
        measured = self.measured()
        out = []
        for i in range(0, len(measured) - per + 1, per):
            chunk = measured[i:i + per]
            out.append((chunk[0].index * self.plan.window_s, self.overall(chunk)))
        return out

    def missing_workers(self) -> list[int]:
        return [k for k in range(self.plan.workers)
                if k not in self.workers or self.workers[k].done is None]

    def worker_errors(self) -> list[str]:
        return [str(w.done["error"]) for w in self.workers.values()
                if w.done and w.done.get("error")]

    def send_counts(self) -> dict[str, int]:
        return {"intended": sum(w.intended for w in self.workers.values()),
                "late_backlog": sum(w.backlog for w in self.workers.values()),
                "dropped": sum(w.dropped for w in self.workers.values())}


K = TypeVar("K")
V = TypeVar("V")


def _get(table: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """``setdefault`` that builds the default only when missing (histograms are not cheap)."""
    value = table.get(key)
    if value is None:
        value = table[key] = make()
    return value


def read(folder: Path, plan: Plan) -> RunResult:
    seconds: dict[int, Second] = {}
    workers: dict[int, WorkerHealth] = {}
    windows = folder / "windows.jsonl"
    lines = windows.read_text(encoding="utf-8").splitlines() if windows.exists() else []
    for line in lines:
        absorb(json.loads(line), seconds, workers)
    done = folder / "done.jsonl"
    for line in done.read_text(encoding="utf-8").splitlines() if done.exists() else []:
        data = json.loads(line)
        _get(workers, int(data["worker"]), WorkerHealth).done = data
    return RunResult(plan, seconds, workers, folder)


def absorb(message: dict[str, Any], seconds: dict[int, Second],
           workers: dict[int, WorkerHealth]) -> None:
    """Add one worker message (its CPU and the windows it closed) to the run."""
    health = _get(workers, int(message["worker"]), WorkerHealth)
    if message.get("cpu") is not None:
        health.cpu.append((float(message["t"]), float(message["cpu"])))
    if message.get("users") is not None:
        health.users.append((float(message["t"]), int(message["users"]),
                             message.get("connections")))
    for window in message["windows"]:
        index = int(window["w"])
        second = _get(seconds, index, functools.partial(Second, index))
        for name, data in window["endpoints"].items():
            tally = Tally()
            tally.add(data)
            _get(second.endpoints, name, Tally).merge(tally)
            second.total.merge(tally)
        for key in ("intended", "backlog", "dropped"):
            setattr(second, key, getattr(second, key) + int(window[key]))
            setattr(health, key, getattr(health, key) + int(window[key]))
        if window.get("lag"):
            lag = hdr.decode(window["lag"])
            health.lag.add(lag)
            second.lag.add(lag)
