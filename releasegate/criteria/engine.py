"""Judges measurements against thresholds. Fails closed: only positive evidence passes.

No data, too few samples, a tool that could not run and zero checks performed are verdicts of
their own (insufficient / error / not_run) and block a release exactly like a failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from releasegate.criteria.catalog import Comparator
from releasegate.criteria.options import loosened as loosened_options
from releasegate.criteria.thresholds import Threshold
from releasegate.criteria.verdict import Verdict, VerdictRecord, worst
from releasegate.evidence.measurement import Measurement, Outcome


@dataclass(frozen=True)
class _Effective:
    limit: float
    min_samples: int
    blocking: bool
    severity: str
    waiver_note: str


def _effective(threshold: Threshold, today: date) -> _Effective:
    """The threshold in force today: an expired waiver falls back to the documented criterion."""
    waiver = threshold.waiver
    if waiver is not None and not waiver.is_valid(today):
        c = threshold.criterion
        return _Effective(
            c.limit, c.min_samples, True, c.severity,
            f"waiver expired on {waiver.expires.isoformat()}; the documented limit applies",
        )
    return _Effective(
        threshold.limit, threshold.min_samples, threshold.blocking, threshold.severity, ""
    )


def _judge_part(m: Measurement, limit: float, min_samples: int, cmp: Comparator) -> tuple[
    Verdict, str
]:
    if m.outcome is Outcome.ERROR:
        return Verdict.ERROR, m.reason or "the suite could not measure"
    if m.outcome is Outcome.INSUFFICIENT:
        return Verdict.INSUFFICIENT, m.reason or "not enough evidence"
    if m.outcome is Outcome.NOT_RUN:
        return Verdict.NOT_RUN, m.reason or "left to another run"
    if m.value is None:
        return Verdict.INSUFFICIENT, m.reason or "no value was measured"
    # Too few samples keep a pass from being claimed, not a breach from being seen: a violation
    # a suite has shown (a leak past the limit, a failure rate proven by a test) stands.
    if m.violations:
        return Verdict.FAIL, "; ".join(m.violations)
    if m.samples < min_samples:
        return Verdict.INSUFFICIENT, (
            f"{m.samples} observation(s), at least {min_samples} needed to claim this"
        )
    if not cmp.holds(m.value, limit):
        return Verdict.FAIL, f"measured {m.value:g} is not {cmp.value} {limit:g}"
    return Verdict.PASS, ""


def _headline(parts: list[Measurement], cmp: Comparator) -> float | None:
    """The value that speaks for the criterion: the worst part, in the comparator's direction."""
    values = [p.value for p in parts if p.value is not None]
    if not values:
        return None
    return max(values) if cmp in (Comparator.LT, Comparator.LE) else min(values)


def judge(threshold: Threshold, measurements: list[Measurement], today: date, *,
          whole: bool = True) -> VerdictRecord:
    """The criterion's verdict from its parts. ``whole=False`` judges the given parts alone (a
    test's immediate feedback): a pooled criterion's minimum then waits for the whole run."""
    c = threshold.criterion
    eff = _effective(threshold, today)
    record = VerdictRecord(
        id=c.id, title=c.title, area=c.area.value, measured=None, unit=c.unit,
        limit=eff.limit, comparator=c.comparator.value, verdict=Verdict.NOT_RUN,
        evidence={}, source="", severity=eff.severity, blocking=eff.blocking,
        documented_limit=c.limit, min_samples=eff.min_samples,
    )
    if eff.waiver_note:
        record.reasons.append(eff.waiver_note)
    if not measurements:
        record.reasons.append("no suite evaluated this criterion")
        return record

    verdicts: list[Verdict] = []
    # A pooled criterion's parts are samples of one series: the minimum applies to them together.
    part_minimum = 1 if c.pooled else eff.min_samples
    for m in measurements:
        verdict, reason = _judge_part(m, eff.limit, part_minimum, c.comparator)
        verdicts.append(verdict)
        if reason:
            prefix = f"[{m.scope}] " if m.scope else ""
            record.reasons.append(prefix + reason)
        record.parts.append({
            "scope": m.scope, "test": m.test, "verdict": verdict.value, "measured": m.value,
            "samples": m.samples, "violations": m.violations, "checks": m.checks,
            "evidence": m.evidence, "source": m.source, "reason": reason,
        })
        record.attachments.extend(m.attachments)

    if c.pooled and whole:
        pooled = sum(m.samples for m in measurements
                     if m.outcome is Outcome.MEASURED and m.value is not None)
        if pooled < eff.min_samples:
            verdicts.append(Verdict.INSUFFICIENT)
            record.reasons.append(f"{pooled} sample(s) over the whole run, at least "
                                  f"{eff.min_samples} needed to claim this")
    record.verdict = worst(verdicts)
    record.measured = _headline(measurements, c.comparator)
    record.samples = sum(m.samples for m in measurements)
    record.source = "; ".join(sorted({m.source for m in measurements if m.source}))
    record.evidence = _merge_evidence(measurements)
    _apply_waiver(record, threshold, today)
    return record


def _apply_waiver(record: VerdictRecord, threshold: Threshold, today: date) -> None:
    """A waiver covers only what it loosens: a pass that needed the looser terms is ``waived``;
    a failure against the looser terms stays a failure."""
    waiver = threshold.waiver
    if waiver is None or not waiver.is_valid(today):
        return
    record.waiver = {
        "reason": waiver.reason, "expires": waiver.expires.isoformat(),
        "approved_by": waiver.approved_by, "loosens": "; ".join(threshold.loosenings),
    }
    if record.verdict is not Verdict.PASS:
        return
    c = threshold.criterion
    # Measured under loosened options, the documented terms were never tried: only the waiver
    # lets it through.
    strict_ok = (record.measured is not None and c.comparator.holds(record.measured, c.limit)
                 and record.samples >= c.min_samples
                 and not loosened_options(c.id, threshold.options))
    if not strict_ok:
        record.verdict = Verdict.WAIVED


def _merge_evidence(measurements: list[Measurement]) -> dict[str, Any]:
    if len(measurements) == 1:
        return dict(measurements[0].evidence)
    return {m.scope or f"part-{i}": m.evidence for i, m in enumerate(measurements, 1)}


def judge_all(
    thresholds: Mapping[str, Threshold],
    measurements: Iterable[Measurement],
    today: date,
    *,
    out_of_scope: frozenset[str] = frozenset(),
) -> list[VerdictRecord]:
    """One record per criterion in the profile; criteria outside the run's scope are omitted."""
    by_id: dict[str, list[Measurement]] = {}
    for m in measurements:
        by_id.setdefault(m.criterion, []).append(m)
    return [
        judge(threshold, by_id.get(cid, []), today)
        for cid, threshold in thresholds.items()
        if cid not in out_of_scope
    ]


def stray_measurements(
    thresholds: Mapping[str, Threshold], measurements: Iterable[Measurement]
) -> list[str]:
    """IDs measured by a suite but absent from the profile: shown, never judged silently."""
    return sorted({m.criterion for m in measurements} - set(thresholds))
