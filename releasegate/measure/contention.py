"""Whose CPU was it? The machine's busy time during a run, less what the run's own processes
(the application's and the database's containers, the load generator, this process) used.

On a machine shared with other work the application competes for the CPU with strangers, and a
latency figure then describes the machine, not the application: past a share of the machine's
capacity used by others, the run's figures are not evidence either way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psutil


def machine_busy_s() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def _tree_cpu_s(pid: int) -> float:
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in process.children(recursive=True):
            c = child.cpu_times()
            total += c.user + c.system
        return float(total)
    except psutil.Error:
        return 0.0


def container_pids(container: Any) -> list[int]:
    """Host PIDs of a container's processes (the engine's ``top``); [] when unavailable."""
    try:
        top = container.top()
        column = top["Titles"].index("PID")
        return [int(row[column]) for row in top["Processes"]]
    except Exception:  # a stopped container or an engine without top: nothing to add
        return []


def proxy_pids(port: int) -> list[int]:
    """The engine's userland proxies that carry traffic to a published port: the run's traffic
    passes through them, so their CPU is the run's too."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if "docker-proxy" in (process.info.get("name") or "") and \
                str(port) in cmdline and "-host-port" in cmdline:
            found.append(process.pid)
    return found


@dataclass
class Contention:
    """Call ``start``, ``see`` the run's short-lived processes while they live, then ``share``."""

    containers: list[Any]
    extra_pids: list[int] = field(default_factory=list)
    cpus: int = field(default_factory=lambda: psutil.cpu_count() or 1)
    _busy0: float = 0.0
    _ours0: float = 0.0
    _t0: float = 0.0
    _seen: dict[int, float] = field(default_factory=dict)

    def _container_cpu(self) -> float:
        return (sum(_tree_cpu_s(p) for c in self.containers for p in container_pids(c))
                + sum(_tree_cpu_s(p) for p in self.extra_pids))

    def start(self) -> Contention:
        self._t0 = time.monotonic()
        self._busy0 = machine_busy_s()
        self._ours0 = self._container_cpu() + _tree_cpu_s(os.getpid())
        return self

    def see(self, pids: Iterable[int]) -> None:
        """Remember the latest CPU time of processes that will be gone when the run ends."""
        for pid in pids:
            used = _tree_cpu_s(pid)
            if used:
                self._seen[pid] = used

    def share(self) -> tuple[float, float]:
        """(share of the machine's CPU capacity others used, share the run's own used)."""
        elapsed = time.monotonic() - self._t0
        capacity = elapsed * self.cpus
        if capacity <= 0:
            return 0.0, 0.0
        busy = machine_busy_s() - self._busy0
        ours = (self._container_cpu() + _tree_cpu_s(os.getpid()) - self._ours0
                + sum(self._seen.values()))
        return max(busy - ours, 0.0) / capacity, min(ours, busy) / capacity
