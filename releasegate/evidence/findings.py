"""One findings model for every security tool: bandit, the dependency matcher, schemathesis,
the injection and authorization probes, the secret and hardening checks.

A finding says what was found (tool, rule, severity, title), where (an endpoint ``METHOD /path``
or ``file:line``), which criterion it counts against, the OWASP API Security Top 10 (2023)
category where one applies, the evidence and how to reproduce it (a curl or shell command).
Findings are de-duplicated by (criterion, tool, rule, location). A waiver names the finding it
accepts, with a reason and an expiry; an expired waiver counts the finding again.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low", "info")
OWASP_API_2023 = {
    "API1": "API1:2023 Broken Object Level Authorization",
    "API2": "API2:2023 Broken Authentication",
    "API3": "API3:2023 Broken Object Property Level Authorization",
    "API4": "API4:2023 Unrestricted Resource Consumption",
    "API5": "API5:2023 Broken Function Level Authorization",
    "API6": "API6:2023 Unrestricted Access to Sensitive Business Flows",
    "API7": "API7:2023 Server Side Request Forgery",
    "API8": "API8:2023 Security Misconfiguration",
    "API9": "API9:2023 Improper Inventory Management",
    "API10": "API10:2023 Unsafe Consumption of APIs",
}


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    severity: str
    criterion: str
    title: str
    location: str
    """``METHOD /path`` for an endpoint, ``path/to/file.py:41`` for code, an image or file."""
    evidence: str = ""
    reproduction: str = ""
    owasp: str = ""
    """An OWASP_API_2023 value, where one applies."""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.criterion, self.tool, self.rule, self.location)

    def one_line(self) -> str:
        return f"[{self.severity}] {self.tool} {self.rule} at {self.location}: {self.title}"

    def to_json(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})


def at_least(severity: str, floor: str) -> bool:
    """True when ``severity`` is ``floor`` or worse."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(floor)


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (criterion, tool, rule, location), the most severe kept, in order."""
    kept: dict[tuple[str, str, str, str], Finding] = {}
    for finding in findings:
        known = kept.get(finding.key)
        if known is None or (at_least(finding.severity, known.severity) and (
                finding.severity != known.severity)):
            kept[finding.key] = finding
    return sorted(kept.values(), key=lambda f: (SEVERITIES.index(f.severity), f.key))


@dataclass(frozen=True)
class FindingWaiver:
    """Accepts the findings whose rule matches and whose location matches the glob."""

    rule: str
    reason: str
    expires: date
    location: str = "*"
    criterion: str = ""
    """Empty: any criterion."""
    approved_by: str = ""

    def matches(self, finding: Finding) -> bool:
        return (self.rule == finding.rule and fnmatch.fnmatchcase(finding.location, self.location)
                and self.criterion in ("", finding.criterion))

    def to_json(self) -> dict[str, str]:
        data = asdict(self)
        data["expires"] = self.expires.isoformat()
        return data


@dataclass
class Triage:
    """Findings split by what the waivers say about them."""

    open: list[Finding] = field(default_factory=list)
    waived: list[tuple[Finding, FindingWaiver]] = field(default_factory=list)
    expired: list[tuple[Finding, FindingWaiver]] = field(default_factory=list)
    """Counted as open again; listed so the report says which waiver ran out."""

    def evidence(self) -> dict[str, Any]:
        return {
            "findings": [f.to_json() for f in self.open],
            "waived": [{**f.to_json(), "waiver": w.to_json()} for f, w in self.waived],
            "expired_waivers": [{**f.to_json(), "waiver": w.to_json()} for f, w in self.expired],
        }


def triage(findings: Iterable[Finding], waivers: Iterable[FindingWaiver], today: date) -> Triage:
    result = Triage()
    rules = list(waivers)
    for finding in dedupe(findings):
        waiver = next((w for w in rules if w.matches(finding)), None)
        if waiver is None:
            result.open.append(finding)
        elif today <= waiver.expires:
            result.waived.append((finding, waiver))
        else:
            result.expired.append((finding, waiver))
            result.open.append(finding)
    return result


def _cell(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _row(f: Finding) -> str:
    what = _cell(f.title) + (f" — {_cell(f.evidence, 200)}" if f.evidence else "")
    repro = f"`{_cell(f.reproduction, 300)}`" if f.reproduction else "—"
    return (f"| {f.severity} | {_cell(f.tool)} {_cell(f.rule)} | `{_cell(f.location)}` | {what} "
            f"| {_cell(f.owasp) or '—'} | {repro} |")


def findings_table(findings: Sequence[Finding], *, note: str = "") -> list[str]:
    """Markdown rows for people: severity, where, what, OWASP category, how to reproduce.
    ``note`` adds a last column (the waiver that accepts each finding, say)."""
    if not findings:
        return ["None."]
    head = "| Severity | Tool / rule | Where | What | OWASP API 2023 | Reproduce |"
    rule = "|---|---|---|---|---|---|"
    if note:
        head, rule = head + f" {note} |", rule + "---|"
    return [head, rule, *(_row(f) for f in findings)]


def triage_markdown(criterion: str, found: Triage, *, examined: int, what: str,
                    listed: Sequence[Finding] = ()) -> str:
    """The findings attachment of one criterion: open, waived, expired, and listed ones."""
    lines = [f"# {criterion}: {len(found.open)} open finding(s) among {examined} {what}(s)", "",
             "## Open (counted against the criterion)", "", *findings_table(found.open), ""]
    if found.waived:
        lines += ["## Waived", "", *_with_waivers(found.waived), ""]
    if found.expired:
        lines += ["## Expired waivers (counted again)", "", *_with_waivers(found.expired), ""]
    if listed:
        lines += ["## Listed, not counted (below the criterion's severity floor)", "",
                  *findings_table(listed), ""]
    return "\n".join(lines)


def _with_waivers(pairs: Sequence[tuple[Finding, FindingWaiver]]) -> list[str]:
    rows = findings_table([f for f, _ in pairs], note="Waiver")
    notes = [f"{_cell(w.reason, 120)} (until {w.expires.isoformat()})" for _, w in pairs]
    return rows[:2] + [f"{row} {note} |" for row, note in zip(rows[2:], notes, strict=True)]


def findings_in(evidence: Any) -> list[Finding]:
    """Every open finding stored in a (possibly nested) evidence tree, for reports."""
    found: list[Finding] = []
    if isinstance(evidence, dict):
        items = evidence.get("findings")
        if isinstance(items, list):
            found += [Finding.from_json(i) for i in items
                      if isinstance(i, dict) and {"tool", "rule", "severity"} <= set(i)]
        for key, value in evidence.items():
            if key != "findings":
                found += findings_in(value)
    elif isinstance(evidence, list):
        for value in evidence:
            found += findings_in(value)
    return found
