"""SEC-SAST: bandit over the application's source, its JSON report turned into findings.

Locations are ``path:line`` relative to the source folder's parent (``app/reports.py:41``), so
waivers and SARIF stay the same wherever the checkout lives. A file bandit could not parse was
not scanned: it is a finding too, never a silent gap.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasegate.evidence.findings import Finding
from releasegate.measure.security.support import ToolFailed, run_tool

CRITERION = "SEC-SAST"
TOOL = "bandit"


@dataclass
class SastResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    """Python files bandit examined."""
    lines: int = 0
    skipped_by_nosec: int = 0
    command: str = ""


def run_bandit(source: Path, *, exclude: tuple[str, ...] = (),
               timeout_s: float = 300.0) -> SastResult:
    if not source.exists():
        raise ToolFailed(f"[security] source {source} does not exist")
    argv = [sys.executable, "-m", "bandit", "-r", str(source), "-f", "json", "-q"]
    if exclude:
        argv += ["-x", ",".join(str(source / e) for e in exclude)]
    run = run_tool(argv, timeout_s=timeout_s)
    # bandit exits 1 when it found something; its JSON is the answer either way.
    try:
        report: dict[str, Any] = json.loads(run.stdout)
    except ValueError:
        raise ToolFailed(f"bandit gave no JSON report: {run.describe()}") from None
    if run.exit_code not in (0, 1):
        raise ToolFailed(f"bandit failed: {run.describe()}")
    return parse_report(report, source, command=" ".join(argv[2:]))


def parse_report(report: dict[str, Any], source: Path, *, command: str = "") -> SastResult:
    base = source.parent
    metrics = report.get("metrics") or {}
    totals = metrics.get("_totals") or {}
    result = SastResult(files=len([k for k in metrics if k != "_totals"]),
                        lines=int(totals.get("loc", 0)), command=command,
                        skipped_by_nosec=int(totals.get("nosec", 0)))
    for item in report.get("results") or []:
        path = _relative(str(item.get("filename", "?")), base)
        test_id = str(item.get("test_id", "?"))
        cwe = (item.get("issue_cwe") or {}).get("id")
        snippet = _flagged_line(str(item.get("code", "")), int(item.get("line_number", 0)))
        result.findings.append(Finding(
            tool=TOOL, rule=test_id, severity=str(item.get("issue_severity", "low")).lower(),
            criterion=CRITERION, title=f"{item.get('issue_text', '')} ({item.get('test_name')})",
            location=f"{path}:{item.get('line_number', 0)}",
            evidence=(f"confidence {str(item.get('issue_confidence', '?')).lower()}"
                      + (f", CWE-{cwe}" if cwe else "") + f"; code: {snippet}"),
            reproduction=f"{sys.executable} -m bandit -t {test_id} {item.get('filename')}",
        ))
    for error in report.get("errors") or []:
        path = _relative(str(error.get("filename", "?")), base)
        result.findings.append(Finding(
            tool=TOOL, rule="unscanned", severity="medium", criterion=CRITERION,
            title="bandit could not scan this file, so nothing is known about it",
            location=f"{path}:0", evidence=str(error.get("reason", ""))[:300],
            reproduction=f"{sys.executable} -m bandit {error.get('filename')}",
        ))
    return result


def _flagged_line(code: str, line: int) -> str:
    """bandit's ``code`` is numbered context lines; the evidence is the flagged one."""
    for text in code.splitlines():
        number, _, rest = text.partition(" ")
        if number == str(line):
            return rest.strip()[:240]
    return " ".join(code.split())[:240]


def _relative(filename: str, base: Path) -> str:
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return filename
