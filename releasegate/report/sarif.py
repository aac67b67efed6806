"""reports/security.sarif: the run's open findings in SARIF 2.1.0, so code hosts and IDEs show
them beside the code (file:line locations) or as run-level results (endpoints)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from releasegate import __version__
from releasegate.evidence.findings import Finding, dedupe, findings_in
from releasegate.report.files import write_atomic
from releasegate.report.summary import records

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
          "info": "note"}
_FILE_LINE = re.compile(r"^(?P<file>[^\s:]+\.[A-Za-z0-9]+):(?P<line>\d+)$")


def summary_findings(summary: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for record in records(summary):
        for part in record.get("parts") or []:
            if isinstance(part, Mapping):
                found += findings_in(part.get("evidence"))
    return dedupe(found)


def _location(finding: Finding) -> dict[str, Any]:
    match = _FILE_LINE.match(finding.location)
    if match:
        return {"physicalLocation": {
            "artifactLocation": {"uri": match["file"]},
            "region": {"startLine": int(match["line"])}}}
    return {"logicalLocations": [{"name": finding.location, "kind": "resource"}]}


def render_sarif(summary: Mapping[str, Any]) -> dict[str, Any]:
    findings = summary_findings(summary)
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in findings:
        rule_id = f"{f.tool}/{f.rule}"
        rules.setdefault(rule_id, {
            "id": rule_id, "name": f.rule, "shortDescription": {"text": f.title[:200]},
            "properties": {"tool": f.tool, "criterion": f.criterion,
                           **({"owasp": f.owasp} if f.owasp else {})},
        })
        results.append({
            "ruleId": rule_id, "level": _LEVEL[f.severity],
            "message": {"text": f"{f.title}" + (f" — evidence: {f.evidence[:500]}"
                                                  if f.evidence else "")},
            "locations": [_location(f)],
            "properties": {"criterion": f.criterion, "severity": f.severity,
                           "reproduction": f.reproduction,
                           **({"owasp": f.owasp} if f.owasp else {})},
        })
    return {
        "$schema": SCHEMA, "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "releasegate", "version": __version__,
                                      "informationUri": "https://pypi.org/project/releasegate/",
                                      "rules": list(rules.values())}},
                  "results": results}],
    }


def write_sarif(summary: Mapping[str, Any], path: Path) -> Path:
    return write_atomic(path, json.dumps(render_sarif(summary), indent=2,
                                         ensure_ascii=False) + "\n")
