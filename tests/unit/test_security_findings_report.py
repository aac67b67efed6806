"""Findings for people: a Markdown table per criterion (open, waived, expired, listed) and one
"Security findings" section in summary.md listing what is still open."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from releasegate.criteria.thresholds import Threshold
from releasegate.evidence.findings import Finding, FindingWaiver, triage, triage_markdown
from releasegate.evidence.measurement import MeasurementStore
from releasegate.measure.recorder import Recorder
from releasegate.report.markdown import render_markdown
from releasegate.report.sample import record, sample_summary

TODAY = date(2026, 11, 29)


def f(rule: str, location: str, severity: str = "medium", criterion: str = "SEC-SAST") -> Finding:
    return Finding(tool="bandit", rule=rule, severity=severity, criterion=criterion,
                   title="a | piped title", location=location, evidence="code: x = 1",
                   reproduction="bandit -t B608 app/x.py")


def test_triage_markdown_has_open_waived_expired_and_listed_sections() -> None:
    waivers = [FindingWaiver("B608", "constant table names only", date(2027, 1, 1)),
               FindingWaiver("B602", "old waiver for the shell call", date(2026, 1, 1))]
    found = triage([f("B608", "a.py:1"), f("B602", "b.py:2", "high"), f("B701", "c.py:3")],
                   waivers, TODAY)
    text = triage_markdown("SEC-SAST", found, examined=12, what="Python file",
                           listed=[f("B105", "d.py:4", "low")])
    assert text.startswith("# SEC-SAST: 2 open finding(s) among 12 Python file(s)")
    assert "## Waived" in text and "constant table names only (until 2027-01-01)" in text
    assert "## Expired waivers (counted again)" in text and "old waiver" in text
    assert "## Listed, not counted" in text and "`d.py:4`" in text
    assert "a \\| piped title" in text  # a pipe never breaks the table


def test_recorder_attaches_the_table_and_keeps_listed_findings_out_of_the_count(
    tmp_path: Path,
) -> None:
    store = MeasurementStore(tmp_path)
    from releasegate.criteria import catalog

    rec = Recorder(store, {"SEC-SAST": Threshold.documented(catalog.get("SEC-SAST"))},
                   test="t", declared=frozenset({"SEC-SAST"}), on_record=lambda _: None)
    m = rec.findings("SEC-SAST", triage([], [], TODAY), examined=3, source="bandit",
                     what="Python file", listed=[f("B105", "d.py:4", "low")])
    assert m.value == 0 and m.evidence["listed"][0]["rule"] == "B105"
    names = sorted(Path(a).name.split("-", 1)[1] for a in m.attachments)
    assert names == ["SEC-SAST-findings.json", "SEC-SAST-findings.md"]
    error = rec.error("SEC-SAST", "bandit is not installed")
    assert error.outcome.value == "error" and error.reason == "bandit is not installed"


def test_summary_lists_open_security_findings_once() -> None:
    summary = sample_summary()
    open_one = f("B602", "app/ops.py:5", "high").to_json()
    summary["criteria"] = [
        *summary["criteria"],
        record("SEC-SAST", "fail", 1.0, parts=[
            {"evidence": {"findings": [open_one], "waived": [], "listed": [
                f("B105", "app/x.py:1", "low").to_json()]}},
            {"evidence": {"findings": [open_one]}}]),
    ]
    text = render_markdown(json.loads(json.dumps(summary)))
    section = text.split("## Security findings", 1)[1].split("\n## ", 1)[0]
    assert "1 open finding (SEC-SAST 1)" in section
    assert section.count("`app/ops.py:5`") == 1 and "`app/x.py:1`" not in section


def test_no_section_without_open_findings() -> None:
    assert "## Security findings" not in render_markdown(sample_summary())
