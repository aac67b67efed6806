"""A stress run's steps: offered rate against what came back, step by step, and the capacity —
the last step that met every limit (PERF-STRESS-CAPACITY)."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.loadgen import hdr
from releasegate.loadgen.results import RunResult, Second

SETTLE_S = 2.0
"""Seconds at the start of a step left out: requests of the previous step still finishing."""


@dataclass(frozen=True)
class StepRow:
    step: int
    offered: float
    achieved: float
    requests: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    raw_p95_ms: float | None
    error_pct: float
    lag_p99_ms: float | None
    complete: bool

    def breaks(self, p95_limit_ms: float, error_pct_limit: float) -> list[str]:
        out = []
        if self.p95_ms is None:
            out.append("no request was answered")
        elif self.p95_ms >= p95_limit_ms:
            out.append(f"p95 {self.p95_ms:.0f} ms ≥ {p95_limit_ms:g} ms")
        if self.error_pct > error_pct_limit:
            out.append(f"{self.error_pct:.2f} % errors > {error_pct_limit:g} %")
        if self.achieved < 0.9 * self.offered and self.complete:
            out.append(f"answered {self.achieved:.1f}/s of {self.offered:g}/s offered")
        return out

    def as_dict(self) -> dict[str, float | int | bool | None]:
        return dict(vars(self))


def step_rows(result: RunResult) -> list[StepRow]:
    """One row per stage that has measured windows, in order."""
    rows = []
    begin = 0.0
    w = result.plan.window_s
    last = max(result.seconds, default=-1)
    for number, stage in enumerate(result.plan.stages, 1):
        end = begin + stage.seconds
        inside: list[Second] = [s for i, s in sorted(result.seconds.items())
                                if begin + SETTLE_S <= i * w and (i + 1) * w <= end]
        begin = end
        if not inside:
            break
        total = inside[0].total.__class__()
        lag = hdr.new()
        for second in inside:
            total.merge(second.total)
            lag.add(second.lag)
        span = len(inside) * w
        rows.append(StepRow(
            step=number, offered=stage.rate, achieved=round(total.count / span, 2),
            requests=total.count, p50_ms=hdr.percentile_ms(total.corrected, 50),
            p95_ms=hdr.percentile_ms(total.corrected, 95),
            p99_ms=hdr.percentile_ms(total.corrected, 99),
            raw_p95_ms=hdr.percentile_ms(total.raw, 95),
            error_pct=round(100.0 * total.server_errors / total.count, 3) if total.count else 0.0,
            lag_p99_ms=hdr.percentile_ms(lag, 99), complete=(end / w) <= last))
    return rows


def capacity(rows: list[StepRow], p95_limit_ms: float,
             error_pct_limit: float) -> tuple[float, StepRow | None]:
    """(the last offered rate before the first broken step, that step or None)."""
    met = 0.0
    for row in rows:
        if row.breaks(p95_limit_ms, error_pct_limit):
            return met, row
        if row.complete:
            met = row.offered
    return met, None


def table(rows: list[StepRow], p95_limit_ms: float, error_pct_limit: float) -> str:
    """The curve as a Markdown table."""
    lines = ["| step | offered/s | answered/s | p50 ms | p95 ms | p99 ms | raw p95 ms | "
             "errors % | generator lag p99 ms | limits |", "|" + "---|" * 10]

    def f(v: float | None) -> str:
        return "—" if v is None else f"{v:,.1f}"

    for r in rows:
        broken = r.breaks(p95_limit_ms, error_pct_limit)
        lines.append(f"| {r.step} | {r.offered:g} | {r.achieved:g} | {f(r.p50_ms)} | "
                     f"{f(r.p95_ms)} | {f(r.p99_ms)} | {f(r.raw_p95_ms)} | {r.error_pct:g} | "
                     f"{f(r.lag_p99_ms)} | {'; '.join(broken) or 'met'} |")
    return "\n".join(lines) + "\n"
