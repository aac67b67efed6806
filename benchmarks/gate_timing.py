"""Measures the gate's own cost: cold and warm wall time, stack-up time and harness overhead.

    .venv/bin/python benchmarks/gate_timing.py [--runs 3] [--cold] [--suite deploy --suite e2e]

Overhead is the run's wall time not spent bringing the stack up (image builds, health waits) or
inside tests (whose waits are configured: outages, alert timeouts): collection, judging,
reporting, teardown. Figures come from each run's own reports/summary.json timings; timings on a
shared machine are noisy, so compare runs made side by side, not with another day's figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run_gate(suites: list[str], reports: Path) -> dict[str, Any]:
    args = [sys.executable, "-m", "releasegate", "run", "--no-html", "--reports-dir", str(reports)]
    for suite in suites:
        args += ["--suite", suite]
    started = time.monotonic()
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - started
    summary = json.loads((reports / "summary.json").read_text())
    timings = summary["run"]["timings"]
    stack_up, tests = float(timings.get("stack_up_s", 0)), float(timings.get("tests_s", 0))
    return {"exit": proc.returncode, "wall_s": wall, "stack_up_s": stack_up, "tests_s": tests,
            "teardown_s": float(timings.get("teardown_s", 0)),
            "overhead_s": wall - stack_up - tests}


def remove_images() -> None:
    import docker

    client = docker.from_env()
    for image in client.images.list():
        if any(tag.startswith("releasegate/") for tag in image.tags):
            client.images.remove(image.id, force=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="first remove releasegate images")
    parser.add_argument("--suite", action="append", default=[])
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.cold:
            remove_images()
            rows.append(("cold", run_gate(args.suite, Path(tmp) / "cold")))
        for i in range(args.runs):
            rows.append((f"warm {i + 1}", run_gate(args.suite, Path(tmp) / f"warm{i}")))
    print(f"{'run':<8} {'exit':>4} {'wall s':>8} {'stack-up s':>10} {'tests s':>8} "
          f"{'teardown s':>10} {'overhead s':>10} {'overhead %':>10}")
    for name, r in rows:
        print(f"{name:<8} {r['exit']:>4} {r['wall_s']:>8.1f} {r['stack_up_s']:>10.1f} "
              f"{r['tests_s']:>8.1f} {r['teardown_s']:>10.1f} {r['overhead_s']:>10.1f} "
              f"{100 * r['overhead_s'] / r['wall_s']:>9.1f}%")
    warm = [r for name, r in rows if name.startswith("warm")]
    if warm:
        print(f"warm medians: wall {statistics.median(r['wall_s'] for r in warm):.1f} s, "
              f"stack-up {statistics.median(r['stack_up_s'] for r in warm):.1f} s, overhead "
              f"{statistics.median(100 * r['overhead_s'] / r['wall_s'] for r in warm):.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
