"""The release decision: ready only when every documented criterion the profile requires was
assessed, and every blocking one passed or is validly waived.

Coverage is part of the decision, not a footnote: a run that judged 10 of 45 documented criteria
says so in its headline. A partial run (some suites or tests selected) is never a release
decision: its verdict is ``scope_passed`` or ``scope_failed``, with the exit code the same scope
would give in a full run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import IntEnum

from releasegate.criteria import catalog
from releasegate.criteria.verdict import Verdict, VerdictRecord

PARTIAL_NOTE = "partial — not a release decision"


class ExitCode(IntEnum):
    READY = 0
    HARNESS_ERROR = 1
    CRITERION_FAILED = 2
    INSUFFICIENT = 3


@dataclass(frozen=True)
class Coverage:
    documented: int
    required: int
    excluded: int
    in_scope: int
    assessed: int
    not_run: int

    @classmethod
    def of(cls, records: Sequence[VerdictRecord], *, required: int, excluded: int) -> Coverage:
        not_run = sum(1 for r in records if r.verdict is Verdict.NOT_RUN)
        return cls(documented=len(catalog.CRITERIA), required=required, excluded=excluded,
                   in_scope=len(records), assessed=len(records) - not_run, not_run=not_run)

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class ReleaseDecision:
    verdict: str
    exit_code: ExitCode
    blockers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reason: str = ""
    partial: bool = False
    coverage: Coverage | None = None
    headline: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict, "exit_code": int(self.exit_code),
            "blockers": self.blockers, "warnings": self.warnings, "reason": self.reason,
            "partial": self.partial, "headline": self.headline,
            "coverage": self.coverage.to_json() if self.coverage else None,
        }


WORDS = {
    "ready": "READY", "not_ready": "NOT READY", "insufficient": "NOT READY",
    "error": "HARNESS ERROR", "scope_passed": "SCOPE PASSED", "scope_failed": "SCOPE FAILED",
}


def _counts(records: Sequence[VerdictRecord]) -> str:
    by = {v: sum(1 for r in records if r.verdict is v and r.blocking) for v in Verdict}
    parts = [f"{by[Verdict.FAIL]} failed" if by[Verdict.FAIL] else "",
             f"{by[Verdict.ERROR]} could not be measured" if by[Verdict.ERROR] else "",
             f"{by[Verdict.INSUFFICIENT]} insufficient" if by[Verdict.INSUFFICIENT] else ""]
    return "; ".join(p for p in parts if p)


def headline(verdict: str, records: Sequence[VerdictRecord], coverage: Coverage, *,
             partial: bool, harness_errors: Sequence[str] = ()) -> str:
    """One line that answers "can we ship?" with the coverage it rests on."""
    words = WORDS.get(verdict, verdict.upper())
    counts = _counts(records)
    if harness_errors:
        counts = "; ".join(x for x in (counts, f"{len(harness_errors)} harness error(s)") if x)
    if partial:
        text = (f"{PARTIAL_NOTE}: {words} — {coverage.assessed} of {coverage.in_scope} "
                f"criteria in scope assessed ({coverage.documented} documented)")
        return text + (f"; {counts}" if counts else "")
    text = f"{words} — {coverage.assessed} of {coverage.documented} documented criteria assessed"
    extra = [f"{coverage.not_run} not run" if coverage.not_run else "",
             counts, f"{coverage.excluded} excluded" if coverage.excluded else ""]
    return text + "".join(f"; {x}" for x in extra if x)


def decide(
    records: list[VerdictRecord], *, partial: bool = False, required: int | None = None,
    excluded: int = 0, harness_errors: Sequence[str] = (),
) -> ReleaseDecision:
    """``records`` are the criteria in scope; ``harness_errors`` failures that belong to no
    criterion (a failing test that declares none): they make the run an error."""
    coverage = Coverage.of(records, required=len(records) if required is None else required,
                           excluded=excluded)
    decision = _decide(records, harness_errors)
    if partial:
        decision.verdict = "scope_passed" if decision.exit_code is ExitCode.READY \
            else "scope_failed"
    decision.partial = partial
    decision.coverage = coverage
    decision.headline = headline(decision.verdict, records, coverage, partial=partial,
                                 harness_errors=harness_errors)
    return decision


def _decide(records: list[VerdictRecord], harness_errors: Sequence[str]) -> ReleaseDecision:
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
    if by_verdict[Verdict.ERROR] or harness_errors:
        reasons = [f"{len(by_verdict[Verdict.ERROR])} criterion(s) could not be measured (error)"
                   if by_verdict[Verdict.ERROR] else "",
                   f"{len(harness_errors)} test(s) failed outside any criterion: "
                   + "; ".join(harness_errors[:3]) if harness_errors else ""]
        return ReleaseDecision(
            "error", ExitCode.HARNESS_ERROR, [r.id for r in blocking], warnings,
            "; ".join(r for r in reasons if r),
        )
    if blocking:
        not_run = len(by_verdict[Verdict.NOT_RUN])
        return ReleaseDecision(
            "insufficient", ExitCode.INSUFFICIENT, [r.id for r in blocking], warnings,
            f"{len(blocking)} blocking criterion(s) lack evidence"
            + (f" ({not_run} not run by any suite)" if not_run else ""),
        )
    return ReleaseDecision(
        "ready", ExitCode.READY, [], warnings, "every blocking criterion passed or is waived"
    )
