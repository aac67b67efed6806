"""Rules over windows as well as whole runs, k6-style: ``p95 < 1000 ms over every 10 s window``,
and an early abort once a limit is clearly broken after a minimum time (k6's
``abortOnFail`` with ``delayAbortEval``) — a run that has already failed need not go on."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.loadgen import hdr
from releasegate.loadgen.results import RunResult, Tally


@dataclass(frozen=True)
class WindowRule:
    """``percentile`` of corrected latency below ``limit_ms`` in every ``window_s`` window."""

    limit_ms: float
    window_s: float
    percentile: float = 95.0
    min_requests: int = 20
    """A window with fewer requests says nothing either way and is not judged."""

    def describe(self) -> str:
        return (f"p{self.percentile:g} < {self.limit_ms:g} ms over every "
                f"{self.window_s:g} s window")

    def value(self, tally: Tally) -> float | None:
        if tally.count < self.min_requests:
            return None
        return hdr.percentile_ms(tally.corrected, self.percentile)

    def broken(self, result: RunResult) -> list[tuple[float, float]]:
        """(window start in s, value) of every judged window that broke the rule."""
        out = []
        for start, tally in result.windows(self.window_s):
            value = self.value(tally)
            if value is not None and value >= self.limit_ms:
                out.append((start, value))
        return out

    def judged(self, result: RunResult) -> int:
        return sum(1 for _, t in result.windows(self.window_s) if self.value(t) is not None)


@dataclass(frozen=True)
class Abort:
    """Stop the run when the trailing window is beyond ``factor`` × the limit, but not before
    ``after_s`` of measurement (a cold start must not abort a run)."""

    rule: WindowRule
    after_s: float
    factor: float = 3.0
    error_rate_pct: float = 50.0

    def reason(self, result: RunResult) -> str | None:
        measured = result.measured()
        span = len(measured) * result.plan.window_s
        if span < max(self.after_s, self.rule.window_s):
            return None
        per = max(1, round(self.rule.window_s / result.plan.window_s))
        tally = result.overall(measured[-per:])
        value = self.rule.value(tally)
        if value is not None and value > self.factor * self.rule.limit_ms:
            return (f"aborted after {span:.0f} s: p{self.rule.percentile:g} {value:.0f} ms over "
                    f"the last {self.rule.window_s:g} s is beyond {self.factor:g} × the "
                    f"{self.rule.limit_ms:g} ms limit")
        if tally.count >= self.rule.min_requests and \
                100.0 * tally.server_errors / tally.count > self.error_rate_pct:
            return (f"aborted after {span:.0f} s: {tally.server_errors} of {tally.count} "
                    f"requests over the last {self.rule.window_s:g} s failed")
        return None
