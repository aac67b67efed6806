"""The engine fails closed: only positive evidence passes, and waivers are never silent."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from releasegate.criteria import catalog
from releasegate.criteria.engine import judge, judge_all, stray_measurements
from releasegate.criteria.release import ExitCode, decide
from releasegate.criteria.thresholds import Threshold, Waiver
from releasegate.criteria.verdict import Verdict
from releasegate.evidence.measurement import Measurement, Outcome

TODAY = date(2026, 11, 21)


def m(cid: str, value: float | None, samples: int = 1, **kw: object) -> Measurement:
    return Measurement(criterion=cid, value=value, samples=samples, source="test", **kw)  # type: ignore[arg-type]


def t(cid: str, **kw: object) -> Threshold:
    return replace(Threshold.documented(catalog.get(cid)), **kw)  # type: ignore[arg-type]


def test_every_documented_criterion_is_in_the_catalog() -> None:
    doc = Path(__file__).resolve().parents[3] / "shared" / "acceptance-criteria.md"
    ids = {c.id for c in catalog.CRITERIA}
    assert len(ids) == 45
    if doc.is_file():  # the contract travels beside the repository, not inside it
        documented = set(re.findall(r"^\| ([A-Z]+-[A-Z0-9-]+) \|", doc.read_text(), re.M))
        assert documented == ids


def test_no_measurement_is_not_run() -> None:
    record = judge(t("PERF-API-P95"), [], TODAY)
    assert record.verdict is Verdict.NOT_RUN
    assert "no suite evaluated" in record.reasons[0]


def test_value_missing_is_insufficient() -> None:
    assert judge(t("PERF-API-P95"), [m("PERF-API-P95", None, 500)], TODAY).verdict \
        is Verdict.INSUFFICIENT


def test_too_few_samples_is_insufficient_even_when_fast() -> None:
    record = judge(t("PERF-API-P95"), [m("PERF-API-P95", 3.0, samples=99)], TODAY)
    assert record.verdict is Verdict.INSUFFICIENT
    assert "at least 100" in record.reasons[0]


def test_zero_checks_is_insufficient() -> None:
    assert judge(t("FUNC-HEALTH"), [m("FUNC-HEALTH", 0.0, samples=0)], TODAY).verdict \
        is Verdict.INSUFFICIENT


@pytest.mark.parametrize(("value", "verdict"), [(999.9, Verdict.PASS), (1000.0, Verdict.FAIL)])
def test_strict_limit(value: float, verdict: Verdict) -> None:
    assert judge(t("PERF-API-P95"), [m("PERF-API-P95", value, 1000)], TODAY).verdict is verdict


def test_violations_fail_whatever_the_value() -> None:
    record = judge(t("FUNC-HEALTH"), [m("FUNC-HEALTH", 0.0, 3, violations=["ignores db"])], TODAY)
    assert record.verdict is Verdict.FAIL


def test_error_and_insufficient_outcomes_pass_through() -> None:
    err = m("SEC-SAST", None, outcome=Outcome.ERROR, reason="bandit crashed")
    assert judge(t("SEC-SAST"), [err], TODAY).verdict is Verdict.ERROR


def test_worst_part_speaks_for_the_criterion() -> None:
    parts = [m("PERF-API-P95", 10.0, 500, scope="/a"), m("PERF-API-P95", 1500.0, 500, scope="/b")]
    record = judge(t("PERF-API-P95"), parts, TODAY)
    assert record.verdict is Verdict.FAIL
    assert record.measured == 1500.0
    assert any(r.startswith("[/b]") for r in record.reasons)


def test_a_failure_outranks_an_error_in_another_part() -> None:
    parts = [m("FUNC-HEALTH", None, outcome=Outcome.ERROR), m("FUNC-HEALTH", 1.0, 3,
                                                              violations=["x"])]
    assert judge(t("FUNC-HEALTH"), parts, TODAY).verdict is Verdict.FAIL


def test_container_start_pools_its_samples_and_judges_the_slowest() -> None:
    """Each start is its own part with one sample; three starts together make the claim."""
    start = t("PERF-CONTAINER-START")
    assert start.min_samples == 3
    starts = [m("PERF-CONTAINER-START", v, scope=f"start {i}") for i, v in
              enumerate((4.0, 9.5, 6.0))]
    record = judge(start, starts, TODAY)
    assert record.verdict is Verdict.PASS
    assert (record.measured, record.samples) == (9.5, 3)
    slow = judge(start, [*starts[:2], m("PERF-CONTAINER-START", 31.0)], TODAY)
    assert slow.verdict is Verdict.FAIL and slow.measured == 31.0


def test_too_few_pooled_samples_are_insufficient_for_the_run_not_for_a_test() -> None:
    start = t("PERF-CONTAINER-START")
    two = [m("PERF-CONTAINER-START", 4.0), m("PERF-CONTAINER-START", 5.0)]
    record = judge(start, two, TODAY)
    assert record.verdict is Verdict.INSUFFICIENT
    assert "2 sample(s) over the whole run, at least 3" in record.reasons[-1]
    # A test recording one start is told about that start only.
    assert judge(start, two[:1], TODAY, whole=False).verdict is Verdict.PASS
    # Samples that could not be measured do not count towards the minimum.
    blind = m("PERF-CONTAINER-START", None, 0, outcome=Outcome.INSUFFICIENT, reason="external")
    assert judge(start, [*two, blind], TODAY).verdict is Verdict.INSUFFICIENT


def test_loosened_limit_passes_only_as_waived() -> None:
    waiver = Waiver("machine has 2 cores; 10k clients impossible", date(2027, 1, 1))
    threshold = t("PERF-CONCURRENCY", limit=500.0, waiver=waiver)
    record = judge(threshold, [m("PERF-CONCURRENCY", 800.0)], TODAY)
    assert record.verdict is Verdict.WAIVED
    assert record.waiver and record.waiver["expires"] == "2027-01-01"


def test_expired_waiver_falls_back_to_the_documented_limit() -> None:
    waiver = Waiver("temporary capacity exception", date(2026, 1, 1))
    threshold = t("PERF-CONCURRENCY", limit=500.0, waiver=waiver)
    record = judge(threshold, [m("PERF-CONCURRENCY", 800.0)], TODAY)
    assert record.verdict is Verdict.FAIL
    assert record.limit == 10000
    assert "expired" in record.reasons[0]


def test_a_waiver_covers_only_what_it_loosens() -> None:
    waiver = Waiver("accepted risk, ticket SEC-42", date(2027, 1, 1))
    threshold = t("SEC-SAST", limit=2, waiver=waiver)
    # Within the looser limit: waived, never a silent pass.
    assert judge(threshold, [m("SEC-SAST", 2.0, 10)], TODAY).verdict is Verdict.WAIVED
    # Beyond even the looser limit: the waiver does not cover it.
    assert judge(threshold, [m("SEC-SAST", 3.0, 10, violations=["B602"])], TODAY).verdict \
        is Verdict.FAIL
    assert judge(threshold, [m("SEC-SAST", None)], TODAY).verdict is Verdict.INSUFFICIENT


def test_a_pass_under_loosened_options_is_waived() -> None:
    waiver = Waiver("small machine, fewer rows for now", date(2027, 1, 1))
    loose = t("FUNC-SQLITE-MIGRATION", waiver=waiver, options={"rows_per_table": 5})
    strict = t("FUNC-SQLITE-MIGRATION", options={"rows_per_table": 50})
    assert judge(loose, [m("FUNC-SQLITE-MIGRATION", 0.0, 3)], TODAY).verdict is Verdict.WAIVED
    assert judge(strict, [m("FUNC-SQLITE-MIGRATION", 0.0, 3)], TODAY).verdict is Verdict.PASS


def test_release_decision_and_exit_codes() -> None:
    ok = judge(t("FUNC-HEALTH"), [m("FUNC-HEALTH", 0.0, 3)], TODAY)
    bad = judge(t("FUNC-E2E-FLOWS"), [m("FUNC-E2E-FLOWS", 1.0, 3, violations=["x"])], TODAY)
    none = judge(t("SEC-SAST"), [], TODAY)
    assert decide([ok]).exit_code is ExitCode.READY
    assert decide([ok, none]).exit_code is ExitCode.INSUFFICIENT
    assert decide([ok, none, bad]).exit_code is ExitCode.CRITERION_FAILED
    assert decide([ok, none, bad]).blockers == ["SEC-SAST", "FUNC-E2E-FLOWS"]
    assert decide([]).exit_code is ExitCode.INSUFFICIENT


def test_non_blocking_failure_is_a_warning() -> None:
    waiver = Waiver("informational on this profile", date(2027, 1, 1))
    soft = judge(t("COMPAT-BROWSER", severity="normal", waiver=waiver),
                 [m("COMPAT-BROWSER", 1.0, 1, violations=["x"])], TODAY)
    decision = decide([soft])
    # The failure stays visible as a failure; only its power to block the release is waived.
    assert soft.verdict is Verdict.FAIL and not soft.blocking
    assert decision.exit_code is ExitCode.READY
    assert decision.warnings == ["COMPAT-BROWSER"]


def test_out_of_scope_criteria_are_omitted_and_strays_reported() -> None:
    thresholds = {cid: t(cid) for cid in ("FUNC-HEALTH", "SEC-SAST")}
    records = judge_all(thresholds, [m("FUNC-HEALTH", 0.0, 2)], TODAY,
                        out_of_scope=frozenset({"SEC-SAST"}))
    assert [r.id for r in records] == ["FUNC-HEALTH"]
    assert stray_measurements(thresholds, [m("PERF-MEMORY", 1.0)]) == ["PERF-MEMORY"]
