"""Repeatability: the same gate on the same application N times must give the same verdicts;
how much each measured value moves between runs is reported, and a value that sits within its
own spread of the limit is ``unstable`` (the next run could flip it)."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasegate.report.files import write_atomic
from releasegate.report.trends import NOISE_SIGMAS
from releasegate.selfcheck.child import run_child

Progress = Callable[[str], None]


@dataclass
class Spread:
    id: str
    unit: str
    limit: float | None
    values: list[float]

    @property
    def stats(self) -> dict[str, float | None]:
        mean = statistics.fmean(self.values)
        stdev = statistics.stdev(self.values) if len(self.values) > 1 else 0.0
        return {"min": min(self.values), "median": statistics.median(self.values),
                "max": max(self.values), "cv": stdev / abs(mean) if mean else None,
                "stdev": stdev}

    @property
    def unstable(self) -> bool:
        stdev = self.stats["stdev"] or 0.0
        return self.limit is not None and stdev > 0 and any(
            abs(v - self.limit) <= NOISE_SIGMAS * stdev for v in self.values)


@dataclass
class Repeatability:
    runs: list[dict[str, Any]] = field(default_factory=list)
    """Per run: exit code, release verdict, criterion verdicts, seconds."""
    spreads: dict[str, Spread] = field(default_factory=dict)

    @property
    def verdicts_agree(self) -> bool:
        if len(self.runs) < 2 or any(not r["verdicts"] for r in self.runs):
            return False
        first = self.runs[0]
        return all(r["release"] == first["release"] and r["verdicts"] == first["verdicts"]
                   for r in self.runs[1:])

    @property
    def disagreements(self) -> dict[str, list[str]]:
        ids = sorted({cid for r in self.runs for cid in r["verdicts"]})
        out = {cid: [r["verdicts"].get(cid, "absent") for r in self.runs] for cid in ids}
        return {cid: v for cid, v in out.items() if len(set(v)) > 1}

    def to_json(self) -> dict[str, Any]:
        return {"runs": self.runs, "verdicts_agree": self.verdicts_agree,
                "disagreements": self.disagreements,
                "spreads": {cid: {"unit": s.unit, "limit": s.limit, "values": s.values,
                                  **s.stats, "unstable": s.unstable}
                            for cid, s in self.spreads.items()}}


def collect(summaries: Sequence[dict[str, Any]], codes: Sequence[int],
            seconds: Sequence[float]) -> Repeatability:
    result = Repeatability()
    for summary, code, took in zip(summaries, codes, seconds, strict=True):
        result.runs.append({"exit_code": code, "seconds": round(took, 1),
                            "release": (summary.get("release") or {}).get("verdict", "none"),
                            "verdicts": {r["id"]: r["verdict"]
                                         for r in summary.get("criteria") or []}})
        for r in summary.get("criteria") or []:
            value = r.get("measured")
            if isinstance(value, (int, float)) and r.get("verdict") not in ("error", "not_run"):
                spread = result.spreads.setdefault(r["id"], Spread(
                    r["id"], str(r.get("unit") or ""),
                    float(r["limit"]) if isinstance(r.get("limit"), (int, float)) else None, []))
                spread.values.append(float(value))
    return result


def run_repeatedly(runs: int, arguments: Sequence[str], reports_dir: Path,
                   progress: Progress) -> Repeatability:
    summaries: list[dict[str, Any]] = []
    codes: list[int] = []
    seconds: list[float] = []
    for i in range(1, runs + 1):
        target = reports_dir / "repeat" / f"run-{i}"
        started = time.monotonic()
        progress(f"run {i} of {runs}")
        code, _ = run_child([sys.executable, "-m", "releasegate", "run", "--no-html",
                             "--reports-dir", str(target), *arguments])
        seconds.append(time.monotonic() - started)
        codes.append(code)
        summary_file = target / "summary.json"
        summaries.append(json.loads(summary_file.read_text()) if summary_file.is_file() else {})
        progress(f"    exit {code}, "
                 f"{summaries[-1].get('release', {}).get('headline', 'no summary')}")
    return collect(summaries, codes, seconds)


def render_markdown(result: Repeatability) -> str:
    n = len(result.runs)
    agree = "✅ the same verdicts in every run" if result.verdicts_agree else \
        "❌ the verdicts differ between runs"
    lines = [f"# Repeatability over {n} runs: {agree}", "",
             "| run | exit | release verdict | time |", "|---|---|---|---|"]
    lines += [f"| {i} | {r['exit_code']} | {r['release']} | {r['seconds']} s |"
              for i, r in enumerate(result.runs, 1)]
    if result.disagreements:
        lines += ["", "## Criteria whose verdict changed between runs", ""]
        lines += [f"- {cid}: {' → '.join(v)}" for cid, v in result.disagreements.items()]
    lines += ["", "## Spread of every measured value", "",
              "| criterion | unit | min | median | max | CV | limit | note |",
              "|---|---|---|---|---|---|---|---|"]
    for cid, s in sorted(result.spreads.items()):
        st = s.stats
        cv = f"{st['cv']:.1%}" if st["cv"] is not None else "—"
        note = "⚠️ unstable: within its own noise of the limit" if s.unstable else ""
        lines.append(f"| {cid} | {s.unit} | {st['min']:g} | {st['median']:g} | {st['max']:g} | "
                     f"{cv} | {s.limit if s.limit is not None else '—'} | {note} |")
    return "\n".join(lines) + "\n"


def write_repeatability(result: Repeatability, reports_dir: Path) -> Path:
    write_atomic(reports_dir / "repeatability.json",
                 json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    return write_atomic(reports_dir / "repeatability.md", render_markdown(result))
