"""The load generator side by side with bare Locust and wrk, against a tiny local server.

    .venv/bin/python benchmarks/load_generator.py [--seconds 10]

Every generator is pinned to core 0 and the server (benchmarks/tiny_server.py) to core 1 with
``taskset``, so each figure is per generator core. Three comparisons:

1. capacity: requests/s of the harness (a Locust master and one worker, closed model, 50
   clients, HDR instrumentation), of bare Locust FastHttpUser (50 users) and of wrk (50
   connections). Goal: harness ≥ 0.9 × bare Locust and ≥ 0.3 × wrk.
2. fidelity: 10 clients against a server that answers after 20 ms; the harness's p50 and p99
   against wrk's (goal: within 15 %).
3. coordinated omission: a fixed rate of 200 requests/s from 4 clients with the server stopped
   (SIGSTOP) for 1 s; the harness's corrected p99 (goal ≥ 900 ms) against its raw p99 — what a
   closed loop of those clients reports (goal: far lower) — and wrk's closed loop for reference.

Only ratios are compared; the machine's core count and load are printed with them. All traffic
goes to 127.0.0.1 and every run stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from releasegate.loadgen import hdr, orchestrate
from releasegate.loadgen.plan import CLOSED, OPEN, Plan, Stage

HERE = Path(__file__).resolve().parent
GENERATOR_CPU, SERVER_CPU = "0", "1"


@contextmanager
def server(delay_ms: float = 0.0) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = orchestrate.free_port("127.0.0.1")
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, sys.executable,
                             str(HERE / "tiny_server.py"), str(port), str(delay_ms)])
    time.sleep(0.7)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)


def wrk(url: str, clients: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(["taskset", "-c", GENERATOR_CPU, "wrk", "-t1", f"-c{clients}",
                          f"-d{seconds}s", "--latency", url], capture_output=True, text=True,
                         timeout=seconds + 30, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for p, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        figures[f"p{p}_ms"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return figures


def bare_locust(url: str, clients: int, seconds: int) -> float:
    out = subprocess.run(["taskset", "-c", GENERATOR_CPU, sys.executable, "-m", "locust", "-f",
                          str(HERE / "bare_locustfile.py"), "--headless", "-u", str(clients),
                          "-r", str(clients), "-t", f"{seconds}s", "--host", url, "--json",
                          "--loglevel", "ERROR", "--exit-code-on-error", "0"],
                         capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    stats = json.loads(out[out.index("["):])
    return sum(s["num_requests"] for s in stats) / seconds


def harness(url: str, plan_kw: dict[str, object], on_tick: object = None) -> object:
    plan = Plan(base_url=url, scenario="generic", workers=1, timeout_s=10.0,
                scenario_config={"endpoints": [{"path": "/"}]}, **plan_kw)  # type: ignore[arg-type]
    folder = Path(tempfile.mkdtemp(prefix="rg-bench-"))
    try:
        return orchestrate.run(plan, folder, orchestrate.Options(cpu_list=GENERATOR_CPU),
                               on_tick or (lambda _live: None))  # type: ignore[arg-type]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def capacity(seconds: int, rounds: int = 3) -> dict[str, float]:
    """Medians of alternating rounds: on a shared machine, back-to-back single runs compare the
    neighbours' load as much as the generators."""
    ws, bs, hs = [], [], []
    with server() as (url, _):
        for _ in range(rounds):
            ws.append(wrk(url, 50, seconds)["rps"])
            bs.append(bare_locust(url, 50, seconds))
            run = harness(url, {"model": CLOSED, "stages": (Stage(seconds, users=50),),
                                "pool_per_worker": 50})
            hs.append(run.overall(run.measured()).count / seconds)  # type: ignore[attr-defined]
    w, b, h = statistics.median(ws), statistics.median(bs), statistics.median(hs)
    return {"wrk_rps": w, "bare_locust_rps": b, "harness_rps": h,
            "harness_vs_bare_locust": h / b, "harness_vs_wrk": h / w}


def fidelity(seconds: int) -> dict[str, float]:
    with server(delay_ms=20) as (url, _):
        w = wrk(url, 10, seconds)
        run = harness(url, {"model": CLOSED, "stages": (Stage(seconds, users=10),),
                            "pool_per_worker": 10, "warmup_s": 1.0})
        raw = run.overall().raw  # type: ignore[attr-defined]
    h50, h99 = hdr.percentile_ms(raw, 50), hdr.percentile_ms(raw, 99)
    return {"wrk_p50_ms": w["p50_ms"], "wrk_p99_ms": w["p99_ms"], "harness_p50_ms": h50 or 0,
            "harness_p99_ms": h99 or 0, "p50_ratio": (h50 or 0) / w["p50_ms"],
            "p99_ratio": (h99 or 0) / w["p99_ms"]}


def _pause_later(proc: subprocess.Popen[bytes], after_s: float) -> threading.Thread:
    def pause() -> None:
        time.sleep(after_s)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(1.0)
        proc.send_signal(signal.SIGCONT)

    thread = threading.Thread(target=pause, daemon=True)
    thread.start()
    return thread


def omission(seconds: int) -> dict[str, float]:
    with server() as (url, proc):
        paused: list[threading.Thread] = []

        def tick(live: orchestrate.Live) -> None:
            if len(live.seconds) >= 3 and not paused:
                paused.append(_pause_later(proc, 0.0))

        # Four clients keep up with 200/s easily; stalled, they stop sending, as a closed loop
        # would — and the timetable goes on, so the corrected figure sees what they missed.
        run = harness(url, {"model": OPEN, "stages": (Stage(seconds, rate=200),),
                            "pool_per_worker": 4}, tick)
        total = run.overall()  # type: ignore[attr-defined]
        thread = _pause_later(proc, 3.0)
        w = wrk(url, 10, seconds)
        thread.join()
    return {"harness_corrected_p99_ms": hdr.percentile_ms(total.corrected, 99) or 0,
            "harness_raw_p99_ms": hdr.percentile_ms(total.raw, 99) or 0,
            "wrk_closed_loop_p99_ms": w["p99_ms"], "wrk_closed_loop_rps": w["rps"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("taskset"):
        print("needs wrk and taskset (Debian: apt-get install wrk util-linux)", file=sys.stderr)
        return 1
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    results = {"capacity": capacity(args.seconds), "fidelity": fidelity(args.seconds),
               "coordinated_omission": omission(args.seconds)}
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    for part, figures in results.items():
        print(f"\n{part}")
        for key, value in figures.items():
            print(f"  {key:28} {value:12,.3f}")
    c, f, o = results["capacity"], results["fidelity"], results["coordinated_omission"]
    goals = {
        "harness ≥ 0.9 × bare Locust": c["harness_vs_bare_locust"] >= 0.9,
        "harness ≥ 0.3 × wrk": c["harness_vs_wrk"] >= 0.3,
        "p50 within 15 % of wrk": abs(f["p50_ratio"] - 1) <= 0.15,
        "p99 within 15 % of wrk": abs(f["p99_ratio"] - 1) <= 0.15,
        "corrected p99 ≥ 900 ms": o["harness_corrected_p99_ms"] >= 900,
        "raw (closed-loop) p99 far lower (< 1/10)": o["harness_raw_p99_ms"] * 10
        < o["harness_corrected_p99_ms"],
    }
    print()
    for goal, met in goals.items():
        print(f"  {'met ' if met else 'MISSED'}  {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
