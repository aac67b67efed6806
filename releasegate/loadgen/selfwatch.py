"""The generator judges itself before anyone judges the application with its numbers.

A saturated worker (its CPU pinned) or a late one (it woke up well after the moment a request was
due) has measured its own queueing, not the server's: the run is then ``insufficient`` with the
reason, never a pass or a fail. Sends that were never made because every client was busy leave
the worst samples out of the corrected histogram: past a small share, a *passing* figure cannot
be trusted (a failing one only gets worse with them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from releasegate.loadgen import hdr
from releasegate.loadgen.results import RunResult


@dataclass(frozen=True)
class Limits:
    cpu_percent: float = 90.0
    """A worker at or above this share of one core…"""
    cpu_share: float = 0.2
    """…in more than this share of its one-second samples is saturated."""
    lag_p99_ms: float = 50.0
    """The worker woke this late (p99) for the sends it was waiting for: it was late."""
    dropped_ratio: float = 0.01
    others_cpu_share: float = 0.25
    """Other processes may use at most this share of the machine's CPU during a run."""


def problems(result: RunResult, limits: Limits = Limits(),
             until_s: float | None = None) -> list[str]:
    """Reasons the generator's figures cannot be trusted (empty when they can); ``until_s``
    limits the judgement to the run's first seconds (a stress run up to its breaking step)."""
    found: list[str] = []
    warmup = result.plan.warmup_s
    end = float("inf") if until_s is None else until_s
    for index, worker in sorted(result.workers.items()):
        samples = [cpu for t, cpu in worker.cpu if warmup <= t <= end]
        busy = [cpu for cpu in samples if cpu >= limits.cpu_percent]
        if samples and len(busy) / len(samples) > limits.cpu_share:
            found.append(f"load worker {index} was saturated: CPU ≥ {limits.cpu_percent:g} % "
                         f"in {len(busy)} of {len(samples)} seconds (add --load-workers or "
                         "machines, or lower the rate)")
        lag = hdr.percentile_ms(worker.lag if until_s is None else _lag(result, index, end),
                                99.0)
        if lag is not None and lag > limits.lag_p99_ms:
            found.append(f"load worker {index} was late: it woke {lag:.0f} ms after the "
                         f"intended send time (p99; limit {limits.lag_p99_ms:g} ms), so the "
                         "machine, not the server, set the pace")
    return found


def _lag(result: RunResult, worker: int, end_s: float) -> Any:
    """The worker's lag over the windows before ``end_s`` (windows keep all workers' lag, so
    this is the merged lag of those seconds: a late worker still shows)."""
    merged = hdr.new()
    for index, second in result.seconds.items():
        if (index + 1) * result.plan.window_s <= end_s:
            merged.add(second.lag)
    return merged


def dropped_problem(result: RunResult, limits: Limits = Limits()) -> str:
    counts = result.send_counts()
    intended = counts["intended"] + counts["dropped"]
    if intended and counts["dropped"] / intended > limits.dropped_ratio:
        return (f"{counts['dropped']} of {intended} intended sends were never made (every "
                f"client was busy): the corrected figures miss their worst samples")
    return ""
