"""One findings model: de-duplicated, waived only with a reason and until an expiry, counted
against its criterion, exported as SARIF."""

from __future__ import annotations

import json
from datetime import date

import pytest

from releasegate.evidence.findings import Finding, FindingWaiver, dedupe, findings_in, triage
from releasegate.report.sample import record, sample_summary
from releasegate.report.sarif import render_sarif

TODAY = date(2026, 11, 29)


def f(rule: str = "B608", location: str = "app/reports.py:41", severity: str = "medium",
      criterion: str = "SEC-SAST", tool: str = "bandit") -> Finding:
    return Finding(tool=tool, rule=rule, severity=severity, criterion=criterion,
                   title="possible SQL injection", location=location,
                   reproduction="bandit -r app", owasp="")


def test_dedupe_keeps_one_per_place_and_the_worst_severity() -> None:
    found = dedupe([f(severity="low"), f(severity="high"), f(location="app/x.py:3")])
    assert [(x.location, x.severity) for x in found] == [("app/reports.py:41", "high"),
                                                          ("app/x.py:3", "medium")]


def test_unknown_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="severity"):
        f(severity="scary")


def test_waivers_match_rule_and_location_and_expire() -> None:
    valid = FindingWaiver("B608", "query built from a constant table name", date(2027, 1, 1),
                          location="app/reports.py:*")
    expired = FindingWaiver("B105", "test fixture password", date(2026, 1, 1))
    result = triage([f(), f(rule="B105", location="app/config.py:12"),
                     f(location="app/other.py:9")], [valid, expired], TODAY)
    assert [x.location for x, _ in result.waived] == ["app/reports.py:41"]
    assert [x.rule for x, _ in result.expired] == ["B105"]
    assert sorted(x.location for x in result.open) == ["app/config.py:12", "app/other.py:9"]


def test_sarif_lists_open_findings_with_code_and_endpoint_locations() -> None:
    summary = sample_summary()
    endpoint = f(rule="bola", location="GET /api/rooms/{id}", severity="high",
                 criterion="SEC-AUTHZ", tool="releasegate-authz")
    summary["criteria"] = [record("SEC-SAST", "fail", 2.0, parts=[
        {"evidence": {"findings": [f().to_json()], "waived": []}},
        {"evidence": {"findings": [endpoint.to_json(), f().to_json()]}}])]
    sarif = render_sarif(summary)
    json.dumps(sarif)
    results = sarif["runs"][0]["results"]
    assert len(results) == 2
    by_rule = {r["ruleId"]: r for r in results}
    code = by_rule["bandit/B608"]["locations"][0]["physicalLocation"]
    assert code == {"artifactLocation": {"uri": "app/reports.py"}, "region": {"startLine": 41}}
    assert by_rule["releasegate-authz/bola"]["level"] == "error"
    assert by_rule["releasegate-authz/bola"]["locations"][0]["logicalLocations"][0]["name"] == (
        "GET /api/rooms/{id}")


def test_findings_are_found_in_nested_evidence_but_waived_ones_are_not() -> None:
    evidence = {"scope": {"findings": [f().to_json()],
                          "waived": [{**f(rule="B105").to_json(), "waiver": {}}]}}
    assert [x.rule for x in findings_in(evidence)] == ["B608"]


def test_recording_findings_counts_open_ones_and_nothing_examined_is_insufficient(
    tmp_path: pytest.TempPathFactory,
) -> None:
    from pathlib import Path

    from releasegate.criteria import catalog
    from releasegate.criteria.thresholds import Threshold
    from releasegate.evidence.measurement import MeasurementStore, Outcome
    from releasegate.measure.recorder import Recorder

    store = MeasurementStore(Path(str(tmp_path)) / "m")
    rec = Recorder(store, {"SEC-SAST": Threshold.documented(catalog.get("SEC-SAST"))},
                   test="t", declared=frozenset({"SEC-SAST"}), on_record=lambda _: None)
    nothing = rec.findings("SEC-SAST", triage([], [], TODAY), examined=0, source="bandit",
                           what="file")
    assert nothing.outcome is Outcome.INSUFFICIENT and "no file was examined" in nothing.reason
    clean = rec.findings("SEC-SAST", triage([], [], TODAY), examined=12, source="bandit")
    assert (clean.value, clean.samples, clean.outcome) == (0.0, 12, Outcome.MEASURED)
    with pytest.raises(pytest.fail.Exception, match="SEC-SAST fail"):
        rec.findings("SEC-SAST", triage([f()], [], TODAY), examined=12, source="bandit")
