"""Runs Locust as separate processes: one master and N local workers, watched from here.

The pytest process never imports gevent or locust: it writes the plan to a file, starts
``python -m locust`` processes, follows the windows the master appends to ``windows.jsonl`` (for
the live status line and the early-abort rules), and reads the results when the master has
quit. Every process it started is ended by its PID, whatever happens; the whole run is bounded
in time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from releasegate.errors import HarnessError
from releasegate.loadgen import results
from releasegate.loadgen.plan import Plan

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
JOIN_TIMEOUT_S = 30
SETUP_ALLOWANCE_S = 60


class LoadRunFailed(HarnessError):
    """The generator could not run: not a measurement of the application."""


@dataclass
class Live:
    """What is known while the run goes on, for the status line and the abort rules."""

    plan: Plan
    seconds: dict[int, results.Second] = field(default_factory=dict)
    workers: dict[int, results.WorkerHealth] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    pids: list[int] = field(default_factory=list)
    """Every process the run started (ended by the time ``run`` returns or raises)."""
    origin: float | None = None
    """This process's monotonic time of the workers' first intended send (to ±0.5 s)."""

    def result(self, folder: Path) -> results.RunResult:
        return results.RunResult(self.plan, self.seconds, self.workers, folder)


@dataclass
class Options:
    local_workers: int = 1
    remote_workers: int = 0
    """Workers that join from elsewhere with --master-host (the master waits for them)."""
    bind_host: str = "127.0.0.1"
    port: int = 0
    """The master's port; 0 picks a free one."""
    cpu_list: str = ""
    """taskset CPU list for every Locust process (benchmarks); empty: no pinning."""
    join_timeout_s: int = JOIN_TIMEOUT_S
    """How long the master waits for its workers before the run fails."""


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise LoadRunFailed(f"the load master cannot listen on {host}:{port}: "
                                f"{exc.strerror or exc}",
                                hint="choose another port or stop what uses it") from None


def _locust(args: list[str], cpu_list: str) -> list[str]:
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]
    return ["taskset", "-c", cpu_list, *argv] if cpu_list else argv


class Processes:
    """The Locust processes of one run, ended by PID on exit."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(proc)
        return proc

    def end(self, grace_s: float = 10.0) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def alive(self) -> list[int]:
        return [p.pid for p in self.procs if p.poll() is None]


def run(plan: Plan, folder: Path, options: Options,
        on_tick: Callable[[Live], str | None] = lambda _live: None,
        live: Live | None = None) -> results.RunResult:
    """Run ``plan``; ``on_tick`` sees the run every half second and may return a reason to stop
    it early (an abort). Raises LoadRunFailed when the generator itself failed."""
    plan.validate()
    expected = options.local_workers + options.remote_workers
    if expected != plan.workers:
        raise LoadRunFailed(f"the plan counts {plan.workers} load workers but "
                            f"{expected} would run")
    folder.mkdir(parents=True, exist_ok=True)
    port = options.port or free_port(options.bind_host)
    _check_port(options.bind_host, port)
    plan_file = plan.write(folder / "plan.json")
    users = plan.total_clients
    budget = plan.duration_s + plan.lead_s + plan.timeout_s + SETUP_ALLOWANCE_S
    master_args = [
        "--master", "--headless", "--master-bind-host", options.bind_host,
        "--master-bind-port", str(port), "--expect-workers", str(expected),
        "--expect-workers-max-wait", str(options.join_timeout_s), "-u", str(users),
        "-r", str(plan.spawn_rate or max(users, 1)),
        "--run-time", f"{int(budget) + options.join_timeout_s}s",
        "--host", plan.base_url, "--exit-code-on-error", "0", "--only-summary",
        "--loglevel", "WARNING", "--rg-plan-file", str(plan_file), "--rg-results", str(folder),
    ]
    procs = Processes()
    live = live or Live(plan)
    try:
        master = procs.start(_locust(master_args, options.cpu_list), folder / "master.log")
        wildcard = options.bind_host in ("0.0.0.0", "::")  # noqa: S104 (a comparison)
        local = "127.0.0.1" if wildcard else options.bind_host
        for index in range(options.local_workers):
            procs.start(_locust(["--worker", "--master-host", local,
                                 "--master-port", str(port), "--loglevel", "WARNING"],
                                options.cpu_list), folder / f"worker-{index}.log")
        live.pids = [p.pid for p in procs.procs]
        _follow(master, folder, live, on_tick, budget + options.join_timeout_s + 30)
    finally:
        procs.end()
        stray = procs.alive()
        if stray:  # pragma: no cover - kill() above cannot fail silently
            raise LoadRunFailed(f"load processes {stray} did not end")
    result = results.read(folder, plan)
    _check_complete(result, folder)
    return result


def _follow(master: subprocess.Popen[bytes], folder: Path, live: Live,
            on_tick: Callable[[Live], str | None], budget_s: float) -> None:
    windows = folder / "windows.jsonl"
    offset = 0
    deadline = time.monotonic() + budget_s
    stopped = False
    while master.poll() is None:
        if time.monotonic() > deadline:
            raise LoadRunFailed(f"the load run did not finish within {budget_s:.0f} s")
        time.sleep(0.5)
        offset = _read_new(windows, offset, live)
        reason = on_tick(live)
        if reason and not stopped:
            (folder / "stop").write_text(reason, encoding="utf-8")
            stopped = True
    _read_new(windows, offset, live)


def _read_new(path: Path, offset: int, live: Live) -> int:
    if not path.exists():
        return offset
    with path.open("rb") as handle:
        handle.seek(offset)
        chunk = handle.read()
    complete = chunk[: chunk.rfind(b"\n") + 1]
    for line in complete.splitlines():
        message = json.loads(line)
        if live.origin is None:
            live.origin = time.monotonic() - float(message["t"])
        results.absorb(message, live.seconds, live.workers)
    return offset + len(complete)


def _check_complete(result: results.RunResult, folder: Path) -> None:
    errors = result.worker_errors()
    if errors:
        raise LoadRunFailed(f"the load scenario could not start: {errors[0]}")
    missing = result.missing_workers()
    if missing:
        log = _last_line(folder / "master.log")
        raise LoadRunFailed(f"load worker(s) {missing} of {result.plan.workers} never reported "
                            f"their results{': ' + log if log else ''}")


def _last_line(path: Path) -> str:
    if not path.exists():
        return ""
    lines = [ln.strip() for ln in path.read_text("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))
