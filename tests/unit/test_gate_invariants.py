"""The gate's invariants, stated as properties over generated inputs.

- No set of measurements without positive evidence ever judges ``pass`` (or ``waived``).
- A release is ``ready`` only when every required criterion was assessed and every blocking one
  passed or is validly waived.
- A looser limit, fewer samples, a weaker severity or a weaker option is never accepted without a
  valid waiver, and a waiver never covers more than the looser limit it names.
- A restart no disruptive test caused always spoils the criteria measured meanwhile.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from releasegate.config.profile import parse_profile
from releasegate.criteria import catalog
from releasegate.criteria.engine import judge
from releasegate.criteria.options import OPTIONS, Stricter
from releasegate.criteria.release import ExitCode, decide
from releasegate.criteria.thresholds import BLOCKING_SEVERITIES, SEVERITIES, Threshold, Waiver
from releasegate.criteria.verdict import Verdict, VerdictRecord
from releasegate.errors import ConfigError
from releasegate.evidence.interference import Interruption, TestWindow, interference
from releasegate.evidence.measurement import Measurement, Outcome

TODAY = date(2026, 11, 29)
criteria = st.sampled_from(catalog.CRITERIA)
values = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))


@st.composite
def measurements(draw: Any, criterion: catalog.Criterion) -> Measurement:
    return Measurement(
        criterion=criterion.id, value=draw(values), samples=draw(st.integers(0, 50_000)),
        source="generated", outcome=draw(st.sampled_from(list(Outcome))),
        violations=draw(st.lists(st.text(min_size=1, max_size=5), max_size=2)),
    )


def positive(m: Measurement, threshold: Threshold) -> bool:
    """What it takes for one part to be evidence of a pass under the documented terms (a
    pooled criterion counts its minimum over all parts, see ``enough``)."""
    c = threshold.criterion
    return (m.outcome is Outcome.MEASURED and m.value is not None and not m.violations
            and (c.pooled or m.samples >= c.min_samples) and c.comparator.holds(m.value, c.limit))


def enough(parts: list[Measurement], threshold: Threshold) -> bool:
    c = threshold.criterion
    return not c.pooled or sum(m.samples for m in parts) >= c.min_samples


@given(data=st.data(), criterion=criteria)
@settings(max_examples=300, deadline=None)
def test_no_measurement_set_without_positive_evidence_passes(
    data: st.DataObject, criterion: catalog.Criterion
) -> None:
    threshold = Threshold.documented(criterion)
    parts = data.draw(st.lists(measurements(criterion), max_size=4))
    record = judge(threshold, parts, TODAY)
    if record.verdict in (Verdict.PASS, Verdict.WAIVED):
        assert parts, "a pass with no measurement at all"
        assert all(positive(m, threshold) for m in parts), record
        assert enough(parts, threshold), record


@given(data=st.data(), criterion=criteria, days=st.integers(-400, 400))
@settings(max_examples=300, deadline=None)
def test_a_waiver_covers_only_what_it_loosens(
    data: st.DataObject, criterion: catalog.Criterion, days: int
) -> None:
    documented = Threshold.documented(criterion)
    looser = criterion.limit + (10 if criterion.comparator.value.startswith("<") else -10)
    waiver = Waiver("generated waiver reason", TODAY + timedelta(days=days))
    threshold = Threshold(criterion, looser, criterion.severity, criterion.min_samples, waiver,
                          documented.options)
    parts = data.draw(st.lists(measurements(criterion), min_size=1, max_size=3))
    record = judge(threshold, parts, TODAY)
    strictly_good = all(positive(m, documented) for m in parts) and enough(parts, documented)
    if record.verdict is Verdict.PASS:
        # A plain pass under a looser limit only when the documented limit was met too.
        assert strictly_good
    if record.verdict is Verdict.WAIVED:
        assert waiver.is_valid(TODAY)
    if not waiver.is_valid(TODAY):
        assert record.verdict is not Verdict.WAIVED
        if record.verdict is Verdict.PASS:
            assert strictly_good


verdicts = st.sampled_from(list(Verdict))


@st.composite
def records(draw: Any) -> list[VerdictRecord]:
    chosen = draw(st.lists(criteria, min_size=0, max_size=8, unique_by=lambda c: c.id))
    return [VerdictRecord(id=c.id, title=c.title, area=c.area.value, measured=None, unit=c.unit,
                          limit=c.limit, comparator=c.comparator.value, verdict=draw(verdicts),
                          evidence={}, source="", blocking=draw(st.booleans()))
            for c in chosen]


@given(recs=records(), partial=st.booleans(), harness=st.lists(st.text(max_size=5), max_size=2))
def test_ready_only_on_full_positive_coverage(
    recs: list[VerdictRecord], partial: bool, harness: list[str]
) -> None:
    decision = decide(recs, partial=partial, harness_errors=harness)
    if decision.exit_code is ExitCode.READY:
        assert recs and not harness
        assert all(r.verdict.acceptable for r in recs if r.blocking)
        assert all(r.verdict is not Verdict.NOT_RUN for r in recs if r.blocking)
    if partial:
        assert decision.verdict in ("scope_passed", "scope_failed")
        assert decision.headline.startswith("partial — not a release decision")
    else:
        assert decision.verdict != "ready" or decision.exit_code is ExitCode.READY


def _profile(threshold: dict[str, Any]) -> dict[str, Any]:
    return {"profile": {"name": "p"},
            "services": {"app": {"kind": "app", "image": "x:1", "port": 8000}},
            "thresholds": {"T": threshold}}


@st.composite
def tunings(draw: Any) -> tuple[catalog.Criterion, dict[str, Any]]:
    criterion = draw(criteria)
    table: dict[str, Any] = {}
    if draw(st.booleans()):
        table["limit"] = draw(st.floats(min_value=-1e5, max_value=1e5, allow_nan=False))
    if draw(st.booleans()):
        table["min_samples"] = draw(st.integers(0, 60_000))
    if draw(st.booleans()):
        table["severity"] = draw(st.sampled_from(SEVERITIES))
    specs = OPTIONS.get(criterion.id, ())
    if specs and draw(st.booleans()):
        spec = draw(st.sampled_from(specs))
        if spec.kind is dict:
            keys = draw(st.sets(st.sampled_from(["code", "message", "request_id", "extra"])))
            table["options"] = {spec.name: {k: k for k in keys}}
        elif spec.kind in (int, float) and spec.stricter is not Stricter.NEUTRAL:
            low, high = spec.minimum or 0, spec.maximum or 1000
            table["options"] = {spec.name: draw(st.integers(int(low), int(high)))}
    return criterion, table


@given(tuning=tunings(), waived=st.booleans())
@settings(max_examples=300, deadline=None)
def test_a_looser_threshold_is_never_accepted_without_a_waiver(
    tuning: tuple[catalog.Criterion, dict[str, Any]], waived: bool
) -> None:
    criterion, table = tuning
    assume(table)
    if waived:
        table["waiver"] = {"reason": "generated for the property", "expires": date(2099, 1, 1)}
    data = _profile(table)
    data["thresholds"] = {criterion.id: table}
    try:
        profile = parse_profile(data, file=Path("p.toml"), today=TODAY)
    except ConfigError:
        return
    threshold = profile.thresholds[criterion.id]
    if threshold.loosened:
        assert threshold.waiver is not None
    else:
        # A waiver with nothing to loosen is refused, so an accepted one always loosens.
        assert threshold.waiver is None
    assert threshold.blocking or threshold.waiver is not None or (
        criterion.severity not in BLOCKING_SEVERITIES)


windows = st.builds(
    TestWindow, test=st.sampled_from(["t1", "t2", "t3"]), start=st.floats(0, 100),
    stop=st.floats(100, 200), criteria=st.just(("FUNC-HEALTH",)), disruptive=st.booleans())


@given(down=st.floats(0, 300), length=st.floats(0, 50), ws=st.lists(windows, max_size=4))
def test_an_unexplained_restart_always_spoils_what_was_measured(
    down: float, length: float, ws: list[TestWindow]
) -> None:
    event = Interruption("app", down, down + length, "generated")
    parts = interference([event], ws)
    explained = any(w.disruptive and w.start <= down <= w.stop for w in ws)
    overlapping = [w for w in ws if w.overlaps(down, down + length)]
    if explained:
        assert parts == []
    else:
        assert len(parts) == len(overlapping)
        assert all(p.outcome is Outcome.ERROR for p in parts)
