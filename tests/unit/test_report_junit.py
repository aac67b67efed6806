"""junit.xml: each verdict becomes the element CI servers understand, and the file stays valid."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from releasegate.report.junit import RELEASE_CLASSNAME, RELEASE_TESTCASE, render_junit
from releasegate.report.sample import record, sample_summary
from releasegate.report.summary import error_summary


def _parse(summary: dict[str, Any]) -> ET.Element:
    return ET.fromstring(render_junit(summary))  # noqa: S314 - our own output


def _case(root: ET.Element, name: str) -> ET.Element:
    found = root.find(f".//testcase[@name='{name}']")
    assert found is not None, name
    return found


@pytest.mark.parametrize(("verdict", "element", "prefix"), [
    ("pass", None, None),
    ("waived", None, None),
    ("fail", "failure", "threshold breach: "),
    ("error", "error", "harness error: "),
    ("insufficient", "error", "insufficient evidence: "),
    ("not_run", "skipped", "not run: "),
])
def test_verdict_maps_to_junit_element(verdict: str, element: str | None,
                                       prefix: str | None) -> None:
    summary = sample_summary()
    summary["criteria"] = [record("FUNC-HEALTH", verdict, 1, reasons=["why it is so"])]
    case = _case(_parse(summary), "FUNC-HEALTH")
    assert case.get("classname") == "releasegate.functional"
    outcome = [child for child in case if child.tag in ("failure", "error", "skipped")]
    if element is None:
        assert outcome == []
    else:
        assert [o.tag for o in outcome] == [element]
        assert prefix is not None
        assert outcome[0].get("message", "").startswith(prefix)
    out = case.find("system-out")
    assert out is not None and "why it is so" in (out.text or "")


def test_suites_per_area_properties_and_counts() -> None:
    root = _parse(sample_summary())
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"Functional", "Performance", "Reliability", "Security",
                           "Compatibility", "Release"}
    excluded = _case(root, "COMPAT-BROWSER").find("skipped")
    assert excluded is not None
    assert excluded.get("message") == "excluded by the profile: the service serves no HTML pages"
    security = suites["Security"]
    assert (security.get("tests"), security.get("failures"), security.get("errors"),
            security.get("skipped")) == ("3", "1", "1", "1")
    props = {p.get("name"): p.get("value")
             for p in _case(root, "PERF-API-P95").iter("property")}
    assert props["measured"] == "812.3 ms"
    assert props["limit"] == "< 1000 ms"
    assert root.get("tests") == str(sum(int(s.get("tests", "0")) for s in suites.values()))


@pytest.mark.parametrize(("verdict", "code", "element"), [
    ("ready", 0, None), ("not_ready", 2, "failure"), ("insufficient", 3, "error"),
    ("error", 1, "error"), ("scope_passed", 0, None), ("scope_failed", 2, "failure"),
    ("scope_failed", 3, "error"), ("ready", 3, "error"),
])
def test_release_decision_is_a_testcase(verdict: str, code: int, element: str | None) -> None:
    summary = sample_summary()
    summary["release"].update(verdict=verdict, exit_code=code)
    case = _case(_parse(summary), RELEASE_TESTCASE)
    assert case.get("classname") == RELEASE_CLASSNAME
    assert [c.tag for c in case if c.tag in ("failure", "error", "skipped")] == (
        [element] if element else [])


def test_blocking_not_run_never_looks_green() -> None:
    summary = sample_summary()
    summary["criteria"] = [record("SEC-API-FUZZ", "not_run", None)]
    summary["release"] = {"verdict": "insufficient", "exit_code": 3,
                          "blockers": ["SEC-API-FUZZ"], "warnings": [], "reason": "no evidence"}
    root = _parse(summary)
    assert int(root.get("errors", "0")) + int(root.get("failures", "0")) >= 1


def test_run_error_is_an_error_testcase() -> None:
    root = _parse(error_summary(message="profile not found", category="configuration error",
                                hint="pass --profile"))
    error = _case(root, RELEASE_TESTCASE).find("error")
    assert error is not None
    assert error.get("message") == "configuration error: run aborted: profile not found"
    assert "pass --profile" in (error.text or "")


def test_control_characters_do_not_break_the_xml() -> None:
    summary = sample_summary()
    summary["criteria"] = [record("FUNC-HEALTH", "fail", 1,
                                  reasons=["log said \x1b[31mERROR\x1b[0m \x00 <tag> & more"])]
    text = render_junit(summary)
    case = _case(_parse(summary), "FUNC-HEALTH")
    assert "\x1b" not in text and "\x00" not in text
    failure = case.find("failure")
    assert failure is not None and "<tag> & more" in (failure.text or "")
