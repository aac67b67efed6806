"""The reference application under load: 100 concurrent clients on its list endpoints.

    .venv/bin/python benchmarks/rento_list_endpoints.py [--clients 100] [--seconds 30]
        [--warmup 5] [--env RENTO_WORKERS=2 ...]

Stands the reference stack up with the harness's own containers provider, seeds the reference
data volume (200 buildings, 5,000 rooms, 20,000 renters, 10,000 contracts, 50,000 bills and their
payments) inside the app container, then runs a closed-loop load: each client sends its next
request when the previous one answered, so the clients never offer more than the service can take
and a slower service shows up as fewer requests per second and, with ``--clients`` requests always
in flight, as latency (Little's law: mean latency = clients / throughput).

The clients cycle through /api/buildings, rooms, renters (every third one searching ``q=13``),
contracts, bills and payments, pages 1..50 of 20 items. A warm-up of the same load runs first and
is not recorded; after it, every request is recorded, failed ones included (their latency counts
and they are listed as errors). Percentiles are computed from all recorded latencies (nearest
rank), never averaged. The app's ``Server-Timing`` header gives the time from the request entering
the application to its answer starting: the server-side share, as against time spent queueing in
the client or the network. Container memory is sampled from the engine every second; the CPU the
app and the database containers used during the recorded phase is divided by the requests served.
/api/dashboard/stats is measured afterwards on its own, by one client; then one ``rento backup`` of
the seeded database is timed inside the app container.

All traffic goes to 127.0.0.1. The run is bounded by --warmup + --seconds and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from releasegate.config.profile import load_profile
from releasegate.measure.alerts import start_receiver
from releasegate.measure.api import login
from releasegate.measure.commands import run_in_container
from releasegate.stack.containers import ContainersStack

REPO = Path(__file__).resolve().parents[1]
ENDPOINTS = ("/api/buildings", "/api/rooms", "/api/renters", "/api/contracts", "/api/bills",
             "/api/payments")
DASHBOARD = "/api/dashboard/stats"
DASHBOARD_REQUESTS = 30


@dataclasses.dataclass
class Recorder:
    """Latencies per endpoint; ``recording`` is off during the warm-up."""

    recording: bool = False
    client: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    server: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    served: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    errors: list[str] = dataclasses.field(default_factory=list)
    rows: list[tuple[float, str, float, dict[str, float], str]] = dataclasses.field(
        default_factory=list)

    def add(self, path: str, client_ms: float, timing: dict[str, float], error: str | None) -> None:
        self.rows.append((time.time(), path, client_ms, timing, error or "ok"))
        self.client.setdefault(path, []).append(client_ms)
        if "app" in timing:
            self.server.setdefault(path, []).append(timing["app"])
            # Per request: the server's time minus its wait for a database slot.
            served = timing["app"] - timing.get("db-wait", 0.0)
            self.served.setdefault(path, []).append(served)
        if error is not None:
            self.errors.append(f"{path}: {error}")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def server_timing(response: httpx.Response) -> dict[str, float]:
    """``Server-Timing: app;dur=12.3, db-wait;dur=4.5`` -> {"app": 12.3, "db-wait": 4.5}."""
    found: dict[str, float] = {}
    for part in response.headers.get("server-timing", "").split(","):
        name, _, params = part.strip().partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "dur":
                with contextlib.suppress(ValueError):
                    found[name] = float(value)
    return found


async def timed_get(client: httpx.AsyncClient, path: str, params: dict[str, Any] | None,
                    recorder: Recorder) -> None:
    # A request belongs to the phase in which it was sent: one sent during the warm-up is not
    # recorded even if it is answered after the recorded phase began.
    recorded = recorder.recording
    started = time.perf_counter()
    try:
        response = await client.get(path, params=params)
    except httpx.HTTPError as exc:
        if recorded:
            recorder.add(path, (time.perf_counter() - started) * 1000, {}, type(exc).__name__)
        return
    elapsed = (time.perf_counter() - started) * 1000
    if recorded:
        error = None if response.status_code == 200 else f"HTTP {response.status_code}"
        recorder.add(path, elapsed, server_timing(response), error)


async def client_loop(base_url: str, token: str, index: int, deadline: float,
                      recorder: Recorder) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        i = index
        while time.monotonic() < deadline:
            path = ENDPOINTS[i % len(ENDPOINTS)]
            params: dict[str, Any] = {"page": 1 + (i * 7) % 50, "page_size": 20}
            if path == "/api/renters" and i % 3 == 0:
                params["q"] = "13"  # free-text search on phone numbers
            await timed_get(client, path, params, recorder)
            i += 1


async def run_load(base_url: str, token: str, clients: int, warmup: float, seconds: float,
                   recorder: Recorder, on_start: Any) -> float:
    """Warm-up, then the recorded phase; returns the recorded phase's duration."""
    loop_start = time.monotonic()
    deadline = loop_start + warmup + seconds
    tasks = [asyncio.create_task(client_loop(base_url, token, i, deadline, recorder))
             for i in range(clients)]
    await asyncio.sleep(warmup)
    recorder.recording = True
    on_start()
    started = time.monotonic()
    await asyncio.gather(*tasks)
    return time.monotonic() - started


async def run_dashboard(base_url: str, token: str, recorder: Recorder) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        recorder.recording = False
        for _ in range(3):  # warm-up
            await timed_get(client, DASHBOARD, None, recorder)
        recorder.recording = True
        for _ in range(DASHBOARD_REQUESTS):
            await timed_get(client, DASHBOARD, None, recorder)


def memory_mb(container: Any) -> float:
    usage = container.stats(stream=False, one_shot=True).get("memory_stats", {})
    return (usage.get("usage", 0) - usage.get("stats", {}).get("total_inactive_file", 0)) / 2**20


def cpu_seconds(container: Any) -> float:
    stats = container.stats(stream=False, one_shot=True)
    return float(stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0)) / 1e9


def sample_memory(container: Any, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        out.append(memory_mb(container))
        stop.wait(1.0)


def _p(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.1f}" if values else "-"


def report_table(recorder: Recorder, paths: tuple[str, ...], total_label: str = "") -> None:
    print(f"{'endpoint':<22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'server p50':>11} {'server p95':>11} {'served p95':>11}")
    rows = [(path, recorder.client.get(path, []), recorder.server.get(path, []),
             recorder.served.get(path, [])) for path in paths]
    if total_label:
        rows.append((total_label, *([v for row in rows for v in row[k]] for k in (1, 2, 3))))
    for label, client, server, served in rows:
        if client:
            print(f"{label:<22} {len(client):>6} {_p(client, 50):>8} {_p(client, 95):>8} "
                  f"{_p(client, 99):>8} {_p(server, 50):>11} {_p(server, 95):>11} "
                  f"{_p(served, 95):>11}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0, help="recorded phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="unrecorded load before it")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the app container (repeatable)")
    parser.add_argument("--samples", type=Path, metavar="CSV",
                        help="also write every recorded request (end time, endpoint, client ms, "
                             "server ms, db-wait ms, outcome) to this file")
    args = parser.parse_args()
    profile = load_profile(REPO / "profiles" / "rento.toml")
    extra = dict(item.split("=", 1) for item in args.env)
    if extra:
        app = dataclasses.replace(profile.app, env={**profile.app.env, **extra})
        profile = dataclasses.replace(profile, app=app)
    lists, dashboard = Recorder(), Recorder()
    memory: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        stack = ContainersStack(profile, run_id="bench" + str(int(time.time()))[-6:],
                                run_dir=Path(tmp), progress=print, alert_sink=start_receiver)
        try:
            info = stack.start()
            if not info.healthy:
                print("the application never became healthy", file=sys.stderr)
                return 1
            app = stack.client.containers.get(info.app_container)
            db = stack.client.containers.get(info.db_container)
            t = time.monotonic()
            seeded = run_in_container(app, ["rento", "seed"])
            seed_seconds = time.monotonic() - t
            print(f"seed: exit {seeded.exit_code} in {seed_seconds:.1f} s")
            if not seeded.ok:
                print(seeded.transcript()[-2000:], file=sys.stderr)
                return 1
            token = str(login(info.base_url, profile.login, info.template_values()).token)
            stop = threading.Event()
            sampler = threading.Thread(target=sample_memory, args=(app, stop, memory))
            cpu_start: dict[str, float] = {}

            def on_start() -> None:
                cpu_start.update(app=cpu_seconds(app), db=cpu_seconds(db),
                                 load=time.process_time())
                sampler.start()

            elapsed = asyncio.run(run_load(info.base_url, token, args.clients, args.warmup,
                                           args.seconds, lists, on_start))
            cpu_used = {"app": cpu_seconds(app) - cpu_start["app"],
                        "db": cpu_seconds(db) - cpu_start["db"],
                        "load": time.process_time() - cpu_start["load"]}
            stop.set()
            sampler.join()
            asyncio.run(run_dashboard(info.base_url, token, dashboard))
            backup = run_in_container(app, ["rento", "backup"])
        finally:
            stack.stop()

    total = sum(len(v) for v in lists.client.values())
    print(f"\nclosed loop: {args.clients} clients, each sends its next request when the previous "
          f"one answered; {args.warmup:.0f} s warm-up not recorded")
    print(f"machine: {os.cpu_count()} CPUs shared by the load generator, the app and PostgreSQL"
          f"{'; app env ' + ' '.join(args.env) if args.env else ''}")
    print(f"recorded: {elapsed:.1f} s, {total} requests ({total / elapsed:.0f} req/s), "
          f"{len(lists.errors)} errors")
    report_table(lists, ENDPOINTS, total_label="all list requests")
    print("server = Server-Timing app (request in the app until its answer starts); served = "
          "server minus db-wait (its wait for a database slot), per request")
    if total:
        parts = (("app", "app"), ("PostgreSQL", "db"), ("load generator", "load"))
        print("CPU per request: " + ", ".join(
            f"{name} {cpu_used[key] / total * 1000:.1f} ms" for name, key in parts))
        print("CPU busy: " + ", ".join(
            f"{name} {cpu_used[key] / elapsed * 100:.0f} %" for name, key in parts)
            + " (100 % = one CPU)")
    if memory:
        print(f"app container memory: max {max(memory):.0f} MB, median "
              f"{statistics.median(memory):.0f} MB over {len(memory)} samples")
    if lists.errors:
        print("first errors:", lists.errors[:5])
    if args.samples:
        with args.samples.open("w", encoding="utf-8") as out:
            out.write("end_unix_s,endpoint,client_ms,server_ms,db_wait_ms,outcome\n")
            for end, path, client_ms, timing, outcome in lists.rows + dashboard.rows:
                srv = f"{timing['app']:.1f}" if "app" in timing else ""
                wait = f"{timing['db-wait']:.1f}" if "db-wait" in timing else ""
                out.write(f"{end:.3f},{path},{client_ms:.1f},{srv},{wait},{outcome}\n")
        print(f"samples: {args.samples}")
    print(f"\n{DASHBOARD} alone, one client, {DASHBOARD_REQUESTS} requests after 3 unrecorded:")
    report_table(dashboard, (DASHBOARD,))
    if dashboard.errors:
        print("dashboard errors:", dashboard.errors[:5])
    print(f"\ncontainer start: healthy {info.startup.healthy_after_s:.1f} s after start; "
          f"seed {seed_seconds:.1f} s; backup of the seeded database: exit {backup.exit_code} "
          f"in {backup.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
