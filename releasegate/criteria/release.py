"""The release decision: ready only when every blocking criterion passed or is validly waived."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from releasegate.criteria.verdict import Verdict, VerdictRecord


class ExitCode(IntEnum):
    READY = 0
    HARNESS_ERROR = 1
    CRITERION_FAILED = 2
    INSUFFICIENT = 3


@dataclass
class ReleaseDecision:
    verdict: str
    exit_code: ExitCode
    blockers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict, "exit_code": int(self.exit_code),
            "blockers": self.blockers, "warnings": self.warnings, "reason": self.reason,
        }


def decide(records: list[VerdictRecord]) -> ReleaseDecision:
    if not records:
        return ReleaseDecision(
            "insufficient", ExitCode.INSUFFICIENT,
            reason="no criterion was in scope: nothing was judged, so nothing can be claimed",
        )
    blocking = [r for r in records if r.blocking and not r.verdict.acceptable]
    warnings = [r.id for r in records if not r.blocking and not r.verdict.acceptable]
    by_verdict = {v: [r.id for r in blocking if r.verdict is v] for v in Verdict}
    if by_verdict[Verdict.FAIL]:
        return ReleaseDecision(
            "not_ready", ExitCode.CRITERION_FAILED, [r.id for r in blocking], warnings,
            f"{len(by_verdict[Verdict.FAIL])} blocking criterion(s) failed",
        )
    if by_verdict[Verdict.ERROR]:
        return ReleaseDecision(
            "error", ExitCode.HARNESS_ERROR, [r.id for r in blocking], warnings,
            f"{len(by_verdict[Verdict.ERROR])} criterion(s) could not be measured (error)",
        )
    if blocking:
        return ReleaseDecision(
            "insufficient", ExitCode.INSUFFICIENT, [r.id for r in blocking], warnings,
            f"{len(blocking)} blocking criterion(s) lack evidence (insufficient or not run)",
        )
    return ReleaseDecision(
        "ready", ExitCode.READY, [], warnings, "every blocking criterion passed or is waived"
    )
