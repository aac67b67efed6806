"""Every measured value across the kept history: its spread, whether it sits within its own
noise of the limit (``unstable``: the next run could flip the verdict), and a small plot."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.criteria.catalog import VIOLATIONS
from releasegate.report.summary import records

NOISE_SIGMAS = 2.0
"""How many standard deviations of a value's own history count as "within its noise"."""
MIN_POINTS = 3
TRENDS_DIR = "trends"


@dataclass(frozen=True)
class Trend:
    id: str
    unit: str
    limit: float | None
    points: tuple[tuple[str, float], ...]

    @property
    def values(self) -> list[float]:
        return [v for _, v in self.points]

    @property
    def stdev(self) -> float:
        return statistics.stdev(self.values) if len(self.points) >= 2 else 0.0

    @property
    def cv(self) -> float | None:
        mean = statistics.fmean(self.values)
        return self.stdev / abs(mean) if mean else None

    @property
    def unstable(self) -> bool:
        """The latest value is within NOISE_SIGMAS of the limit, given how much it moves."""
        if self.limit is None or len(self.points) < MIN_POINTS or self.stdev == 0:
            return False
        return abs(self.values[-1] - self.limit) <= NOISE_SIGMAS * self.stdev


def trends(series: Mapping[str, list[tuple[str, float]]],
           summary: Mapping[str, Any]) -> dict[str, Trend]:
    """Trends of the numeric criteria this run measured (check lists have no useful spread)."""
    out: dict[str, Trend] = {}
    for record in records(summary):
        cid = str(record["id"])
        points = series.get(cid) or []
        if record.get("unit") == VIOLATIONS or not points:
            continue
        limit = record.get("limit")
        out[cid] = Trend(cid, str(record.get("unit") or ""),
                         float(limit) if isinstance(limit, (int, float)) else None,
                         tuple(points))
    return out


def write_plots(found: Mapping[str, Trend], reports_dir: Path) -> dict[str, str]:
    """One small PNG per criterion with at least two points; paths relative to reports_dir."""
    plottable = {cid: t for cid, t in found.items() if len(t.points) >= 2}
    if not plottable:
        return {}
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    folder = reports_dir / TRENDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for cid, trend in plottable.items():
        fig, ax = plt.subplots(figsize=(4.5, 2.2), dpi=100)
        ax.plot(range(1, len(trend.points) + 1), trend.values, marker="o", linewidth=1)
        if trend.limit is not None:
            ax.axhline(trend.limit, color="red", linestyle="--", linewidth=1, label="limit")
        ax.set_title(cid, fontsize=9)
        ax.set_xlabel("run (oldest → this one)", fontsize=7)
        ax.set_ylabel(trend.unit, fontsize=7)
        ax.tick_params(labelsize=7)
        fig.tight_layout()
        path = folder / f"{cid}.png"
        fig.savefig(path)
        plt.close(fig)
        written[cid] = f"{TRENDS_DIR}/{cid}.png"
    return written
