"""junit.xml: the verdicts in the one format every CI server already displays.

One testsuite per area, one testcase per criterion. CI servers count skipped tests as harmless,
yet a blocking criterion that was not run blocks the release; so one more testcase,
``releasegate.release`` / ``RELEASE-DECISION``, carries the release decision itself, and a CI
page can never look green while releasegate says "not ready".
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import timezone
from pathlib import Path
from typing import Any

from releasegate.criteria import catalog
from releasegate.report.allure_results import status_message
from releasegate.report.files import write_atomic
from releasegate.report.formatting import (
    format_limit,
    format_measured,
    format_samples,
    one_line,
    parse_timestamp,
)
from releasegate.report.summary import (
    Record,
    excluded,
    headline_text,
    profile_name,
    records,
    release_info,
    run_error,
    run_info,
)

RELEASE_CLASSNAME = "releasegate.release"
RELEASE_TESTCASE = "RELEASE-DECISION"
# Characters XML 1.0 cannot carry at all; a log excerpt with a stray escape byte must not make
# the whole file unreadable to the CI server.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(value))


def classname(area: str) -> str:
    return "releasegate." + re.sub(r"\W+", "_", area.strip().lower()).strip("_")


def _outcome(record: Mapping[str, Any]) -> tuple[str | None, str]:
    """The JUnit element for a verdict: failure, error, skipped or None (passed)."""
    verdict = str(record.get("verdict"))
    if verdict in ("pass", "waived"):
        return None, verdict
    if verdict == "fail":
        return "failure", "threshold breach"
    if verdict == "insufficient":
        return "error", "insufficient evidence"
    if verdict == "not_run":
        return "skipped", "not run"
    # error, and anything unknown: an unrecognised verdict is a harness fault, never a pass.
    return "error", "harness error"


def _properties(parent: ET.Element, values: Mapping[str, str]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(props, "property", name=_text(name), value=_text(value))


def _testcase(suite: ET.Element, record: Record) -> str | None:
    case = ET.SubElement(
        suite, "testcase", classname=classname(str(record.get("area") or "unknown")),
        name=_text(record["id"]), time="0",
    )
    _properties(case, {
        "title": str(record.get("title") or ""),
        "verdict": str(record.get("verdict")),
        "measured": format_measured(record),
        "limit": format_limit(record),
        "documented_limit": format_limit(record, documented=True),
        "samples": format_samples(record),
        "severity": str(record.get("severity") or ""),
        "blocking": "true" if record.get("blocking") else "false",
    })
    element, kind = _outcome(record)
    reasons = [str(r) for r in record.get("reasons") or []]
    if element is not None:
        message = status_message(record) or kind
        node = ET.SubElement(case, element, message=_text(message))
        if element != "skipped":
            node.set("type", kind)
            node.text = _text("\n".join(reasons) or message)
    waiver = record.get("waiver")
    out = list(reasons)
    if isinstance(waiver, Mapping):
        out.append(f"waived: {waiver.get('reason', '')} (expires {waiver.get('expires', '?')})")
    if out:
        ET.SubElement(case, "system-out").text = _text("\n".join(out))
    return element


def _excluded_case(suite: ET.Element, item: Mapping[str, str]) -> str:
    case = ET.SubElement(suite, "testcase", classname=classname(
        str(item.get("area") or "unknown")), name=_text(item["id"]), time="0")
    reason = f"excluded by the profile: {item.get('reason', '')}" + (
        f" (until {item['expires']})" if item.get("expires") else "")
    ET.SubElement(case, "skipped", message=_text(one_line(reason, 4000)))
    return "skipped"


def _release_case(summary: Mapping[str, Any]) -> tuple[ET.Element, str | None]:
    release = release_info(summary)
    verdict = str(release.get("verdict") or "")
    case = ET.Element("testcase", classname=RELEASE_CLASSNAME, name=RELEASE_TESTCASE, time="0")
    error = run_error(summary)
    reason = one_line(str(release.get("reason") or ""), 4000)
    title = one_line(headline_text(summary), 4000)
    blockers = ", ".join(str(b) for b in release.get("blockers") or [])
    detail = f"{title}\n{reason}" + (f"\nblockers: {blockers}" if blockers else "")
    element: str | None
    if error is not None:
        element = "error"
        node = ET.SubElement(case, "error", message=_text(
            f"{error['category']}: run aborted: {one_line(error['message'], 4000)}"))
        node.set("type", error["category"])
        node.text = _text("\n".join(x for x in (error["message"], error["hint"]) if x))
    elif verdict in ("ready", "scope_passed") and int(release.get("exit_code", 1)) == 0:
        element = None
        if verdict == "scope_passed":
            ET.SubElement(case, "system-out").text = _text(title)
    elif int(release.get("exit_code", 1)) == 2:
        element = "failure"
        node = ET.SubElement(case, "failure", message=_text(title))
        node.set("type", "not ready")
        node.text = _text(detail)
    else:
        element = "error"
        kind = ("insufficient evidence" if int(release.get("exit_code", 1)) == 3
                else "harness error")
        node = ET.SubElement(case, "error", message=_text(title))
        node.set("type", kind)
        node.text = _text(detail)
    return case, element


def _count(suite: ET.Element, outcomes: list[str | None]) -> None:
    suite.set("tests", str(len(outcomes)))
    suite.set("failures", str(outcomes.count("failure")))
    suite.set("errors", str(outcomes.count("error")))
    suite.set("skipped", str(outcomes.count("skipped")))
    suite.set("time", "0")


def render_junit(summary: Mapping[str, Any]) -> str:
    run = run_info(summary)
    started = parse_timestamp(run.get("started_at"))
    # The JUnit schema's timestamp is an ISO 8601 date-time without a zone: write it in UTC.
    timestamp = started.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") if started else ""
    duration = run.get("duration_s")
    root = ET.Element("testsuites", name=_text(f"releasegate {profile_name(summary)}"))
    by_area: dict[str, list[Record]] = {}
    for record in records(summary):
        by_area.setdefault(str(record.get("area") or "Unknown"), []).append(record)
    for item in excluded(summary):
        known = catalog.BY_ID.get(item["id"])
        area = known.area.value if known else "Unknown"
        by_area.setdefault(area, []).append({**item, "area": area, "excluded": True})
    all_outcomes: list[str | None] = []
    host = socket.gethostname()
    for index, (area, items) in enumerate([*by_area.items(), ("Release", [])]):
        suite = ET.SubElement(root, "testsuite", name=_text(area), id=str(index),
                              package=classname(area), hostname=_text(host))
        if timestamp:
            suite.set("timestamp", timestamp)
        if area == "Release":
            _properties(suite, {
                "profile": str(run.get("profile") or ""),
                "run_id": str(run.get("id") or ""),
                "target": str(run.get("target") or ""),
                "partial": "true" if run.get("partial") else "false",
                "exit_code": str(release_info(summary).get("exit_code", "")),
            })
            case, outcome = _release_case(summary)
            suite.append(case)
            outcomes = [outcome]
        else:
            outcomes = [_excluded_case(suite, r) if r.get("excluded") else _testcase(suite, r)
                        for r in items]
        _count(suite, outcomes)
        all_outcomes += outcomes
    _count(root, all_outcomes)
    if isinstance(duration, (int, float)):
        root.set("time", f"{duration:.3f}")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def write_junit(summary: Mapping[str, Any], path: Path) -> Path:
    return write_atomic(path, render_junit(summary))
