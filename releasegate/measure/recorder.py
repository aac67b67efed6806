"""The suite-facing way to record a measurement: ``record(criterion, value=..., ...)``.

Recording writes the evidence first and judges the part at once against the profile, so a QA
engineer watching pytest sees a red test with the reason — the final verdict is still computed
later from every part of the criterion, by the engine, from the files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from releasegate.criteria.engine import judge
from releasegate.criteria.thresholds import Threshold
from releasegate.criteria.verdict import Verdict
from releasegate.evidence.findings import Finding, Triage, triage_markdown
from releasegate.evidence.measurement import Measurement, MeasurementStore, Outcome


class CriterionBreached(pytest.fail.Exception):  # type: ignore[misc,name-defined]
    """A recorded part judged red: the test fails with the verdict's reason, and the plugin
    knows this failure is the measurement speaking, not the test breaking."""


@dataclass
class Check:
    """One named check of a pass/fail criterion; violations are the checks that failed."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class CheckList:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        return bool(ok)

    @property
    def violations(self) -> list[str]:
        return [f"{c.name}: {c.detail}" if c.detail else c.name for c in self.checks if not c.ok]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]


class Recorder:
    def __init__(
        self, store: MeasurementStore, thresholds: dict[str, Threshold], *, test: str,
        declared: frozenset[str], on_record: Callable[[str], None],
    ) -> None:
        self.store = store
        self.thresholds = thresholds
        self.test = test
        self.declared = declared
        self._on_record = on_record

    def __call__(
        self, criterion: str, *, value: float | None, samples: int, source: str,
        violations: list[str] | None = None, checks: list[dict[str, Any]] | None = None,
        evidence: dict[str, Any] | None = None, attachments: list[str] | None = None,
        scope: str = "", outcome: Outcome = Outcome.MEASURED, reason: str = "",
        fail_test: bool = True,
    ) -> Measurement:
        if criterion not in self.declared:
            raise AssertionError(
                f"{self.test} records {criterion} but does not declare it with "
                f"@pytest.mark.criterion({criterion!r})"
            )
        m = Measurement(
            criterion=criterion, value=value, samples=samples, source=source,
            outcome=outcome, violations=list(violations or []), checks=list(checks or []),
            evidence=dict(evidence or {}), attachments=list(attachments or []),
            reason=reason, test=self.test, scope=scope,
        )
        self.store.write(m)
        self._on_record(criterion)
        threshold = self.thresholds.get(criterion)
        if threshold is not None and fail_test:
            part = judge(threshold, [m], date.today(), whole=False)
            if part.verdict not in (Verdict.PASS, Verdict.WAIVED):
                raise CriterionBreached(
                    f"{criterion} {part.verdict.value}: {'; '.join(part.reasons)}",
                    pytrace=False)
        return m

    def checks(self, criterion: str, checklist: CheckList, *, source: str,
               evidence: dict[str, Any] | None = None, attachments: list[str] | None = None,
               scope: str = "") -> Measurement:
        """Record a pass/fail criterion: the value is the number of violated checks."""
        return self(
            criterion, value=float(len(checklist.violations)), samples=len(checklist.checks),
            source=source, violations=checklist.violations, checks=checklist.as_dicts(),
            evidence=evidence, attachments=attachments, scope=scope,
        )

    def findings(self, criterion: str, found: Triage, *, examined: int, source: str,
                 what: str = "item", scope: str = "",
                 evidence: dict[str, Any] | None = None,
                 listed: list[Finding] | None = None) -> Measurement:
        """Record a findings criterion: the value is the number of open findings among
        ``examined`` things looked at (files, operations, parameters…). Nothing examined is
        never a clean bill: it is insufficient. ``listed`` findings (below the criterion's
        severity floor) are shown in the evidence and the table, never counted."""
        if examined <= 0:
            return self.insufficient(criterion, f"no {what} was examined, so no finding "
                                     "could have been made", scope=scope)
        data = {**found.evidence(), "examined": examined, "examined_what": what,
                "listed": [f.to_json() for f in listed or []], **(evidence or {})}
        name = f"{criterion}-{scope}-findings" if scope else f"{criterion}-findings"
        attachments = [
            self.attach(f"{name}.json", json.dumps(data, indent=2, ensure_ascii=False)),
            self.attach(f"{name}.md", triage_markdown(criterion, found, examined=examined,
                                                      what=what, listed=listed or [])),
        ]
        return self(criterion, value=float(len(found.open)), samples=examined, source=source,
                    violations=[f.one_line() for f in found.open], evidence=data,
                    attachments=attachments, scope=scope)

    def insufficient(self, criterion: str, reason: str, *, scope: str = "") -> Measurement:
        return self(criterion, value=None, samples=0, source="", outcome=Outcome.INSUFFICIENT,
                    reason=reason, scope=scope, fail_test=False)

    def error(self, criterion: str, reason: str, *, scope: str = "") -> Measurement:
        """The tool or the input broke (a scanner that crashed, a path that does not exist):
        the criterion is an error with this reason, and the test goes on to say so."""
        return self(criterion, value=None, samples=0, source="", outcome=Outcome.ERROR,
                    reason=reason, scope=scope, fail_test=False)

    def attach(self, name: str, content: str | bytes) -> str:
        return self.store.attach(name, content)
