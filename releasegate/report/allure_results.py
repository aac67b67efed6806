"""Allure results: one test result per criterion, so the Allure HTML tells the same story.

Identity is the criterion ID. Allure 3 ignores a result's ``historyId`` and derives its own from
``testCaseId`` plus every parameter not marked ``excluded``; the parameters here carry measured
values that change from run to run, so all of them are excluded, or history and trends would
start afresh on every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allure_commons.model2 import (
    Attachment,
    Label,
    Parameter,
    Status,
    StatusDetails,
    TestResult,
    TestStepResult,
)
from allure_commons.types import AttachmentType, LabelType

from releasegate.criteria import catalog
from releasegate.evidence.redact import Redactor, identity
from releasegate.report.allure_context import write_context
from releasegate.report.allure_files import ResultsDir, attach_bytes, attach_evidence
from releasegate.report.formatting import (
    format_limit,
    format_measured,
    format_samples,
    format_value,
    one_line,
    verdict_badge,
    verdict_label,
)
from releasegate.report.matrix import matrix_section
from releasegate.report.summary import Record, excluded, profile_name, records, run_error

STATUS = {
    "pass": Status.PASSED,
    "waived": Status.PASSED,
    "fail": Status.FAILED,
    "error": Status.BROKEN,
    "insufficient": Status.BROKEN,
    "not_run": Status.SKIPPED,
}
# Categories (allure_context.CATEGORIES) match on these prefixes.
MESSAGE_PREFIX = {
    "fail": "threshold breach",
    "error": "harness error",
    "insufficient": "insufficient evidence",
    "not_run": "not run",
}
# Allure shows each criterion under its area (epic) then its ID (feature); see allurerc.mjs.
def stable_id(criterion_id: str) -> str:
    return hashlib.md5(f"releasegate:{criterion_id}".encode(), usedforsecurity=False).hexdigest()


def status_message(record: Mapping[str, Any]) -> str | None:
    verdict = str(record.get("verdict"))
    reasons = [str(r) for r in record.get("reasons") or []]
    if verdict in ("pass", "waived"):
        waiver = record.get("waiver")
        if verdict == "waived" and isinstance(waiver, Mapping):
            return one_line(f"waived: {waiver.get('reason', '')} "
                            f"(expires {waiver.get('expires', '?')})", 2000)
        return None
    prefix = MESSAGE_PREFIX.get(verdict, "harness error")
    if verdict not in MESSAGE_PREFIX:
        reasons = [f"unknown verdict {verdict!r}", *reasons]
    # One line: Allure 2 matches category regexes against the whole message without DOTALL.
    return f"{prefix}: {one_line(reasons, 4000) or 'no reason was recorded'}"


def _status(verdict: str) -> str:
    # An unknown verdict is a harness fault, never a pass.
    return STATUS.get(verdict, Status.BROKEN)


def _labels(record: Mapping[str, Any], profile: str) -> list[Label]:
    area = str(record.get("area") or "Unknown")
    labels = [
        Label(name=LabelType.EPIC, value=area),
        Label(name=LabelType.FEATURE, value=str(record["id"])),
        Label(name=LabelType.STORY, value=str(record.get("title") or record["id"])),
        Label(name=LabelType.SEVERITY, value=str(record.get("severity") or "blocker")),
        Label(name=LabelType.TAG, value="blocking" if record.get("blocking") else "non-blocking"),
        Label(name=LabelType.SUITE, value=area),
        Label(name=LabelType.PARENT_SUITE, value=profile),
        Label(name=LabelType.FRAMEWORK, value="releasegate"),
    ]
    if record.get("verdict") == "waived":
        labels.append(Label(name=LabelType.TAG, value="waived"))
    return labels


def _parameters(record: Mapping[str, Any]) -> list[Parameter]:
    params = [
        ("measured", format_measured(record)),
        ("limit", format_limit(record)),
        ("documented limit", format_limit(record, documented=True)),
        ("samples", format_samples(record)),
    ]
    return [Parameter(name=name, value=value, excluded=True) for name, value in params]


def _check_status(check: Mapping[str, Any]) -> str | None:
    for key in ("ok", "passed"):
        if isinstance(check.get(key), bool):
            return Status.PASSED if check[key] else Status.FAILED
    for key in ("status", "verdict", "result", "outcome"):
        value = str(check.get(key, "")).lower()
        if value in ("pass", "passed", "ok", "true"):
            return Status.PASSED
        if value in ("fail", "failed", "false", "violation"):
            return Status.FAILED
        if value in ("error", "broken", "insufficient"):
            return Status.BROKEN
        if value in ("skip", "skipped", "not_run"):
            return Status.SKIPPED
    return None


def _check_name(check: Mapping[str, Any]) -> str:
    for key in ("name", "check", "id", "title", "description"):
        if check.get(key):
            name = str(check[key])
            detail = check.get("detail") or check.get("message") or check.get("reason")
            return f"{name}: {one_line(str(detail), 200)}" if detail else name
    return json.dumps(check, sort_keys=True, default=str)[:200]


def _part_step(part: Mapping[str, Any], record: Mapping[str, Any]) -> TestStepResult:
    verdict = str(part.get("verdict"))
    scope = str(part.get("scope") or part.get("test") or "measurement")
    unit = str(record.get("unit", ""))
    step = TestStepResult(
        name=f"{scope} → {verdict_label(verdict)}",
        status=_status(verdict),
        parameters=[
            Parameter(name="measured", value=format_value(
                part.get("measured"), unit,
                comparator=record.get("comparator"), limit=record.get("limit"))),
            Parameter(name="samples", value=str(part.get("samples", 0))),
        ],
    )
    if part.get("reason"):
        step.statusDetails = StatusDetails(message=str(part["reason"]))
    checks = part.get("checks")
    if isinstance(checks, list):
        step.steps = [
            TestStepResult(name=_check_name(c), status=_check_status(c))
            for c in checks if isinstance(c, Mapping)
        ]
    return step


_CHECK_ICON = {Status.PASSED: "✅", Status.FAILED: "❌", Status.BROKEN: "💥", Status.SKIPPED: "⏭️"}
MAX_LISTED_CHECKS = 50
"""Per part; the steps hold every check, the description only has to be readable."""


def _check_lines(part: Mapping[str, Any]) -> list[str]:
    checks = [c for c in part.get("checks") or [] if isinstance(c, Mapping)]
    if not checks:
        return []
    # Failed checks first: they are what the reader came for.
    checks.sort(key=lambda c: _check_status(c) == Status.PASSED)
    scope = part.get("scope") or part.get("test") or "measurement"
    lines = [f"#### {scope}", ""]
    for check in checks[:MAX_LISTED_CHECKS]:
        icon = _CHECK_ICON.get(_check_status(check) or "", "❔")
        lines.append(f"- {icon} {_check_name(check)}")
    if len(checks) > MAX_LISTED_CHECKS:
        lines.append(f"- … and {len(checks) - MAX_LISTED_CHECKS} more (see the steps)")
    return [*lines, ""]


def _description(record: Mapping[str, Any], missing: list[str]) -> str:
    verdict = str(record.get("verdict"))
    blocking = "blocking" if record.get("blocking") else "non-blocking"
    lines = [
        f"**{verdict_badge(verdict)}** · {blocking} · severity {record.get('severity', '?')}",
        "",
        f"Measured **{format_measured(record)}** against **{format_limit(record)}** "
        f"(documented: {format_limit(record, documented=True)}), "
        f"samples {format_samples(record)}.",
        "",
    ]
    reasons = [str(r) for r in record.get("reasons") or []]
    if reasons:
        lines += ["**Why:**", "", *[f"- {one_line(r, 1000)}" for r in reasons], ""]
    waiver = record.get("waiver")
    if isinstance(waiver, Mapping):
        lines += [
            f"**Waiver:** {waiver.get('reason', '')} — approved by "
            f"{waiver.get('approved_by') or 'unknown'}, expires {waiver.get('expires', '?')}.",
            "",
        ]
    if record.get("source"):
        lines += [f"**Source:** {record['source']}", ""]
    lines += matrix_section([record])
    parts = [p for p in record.get("parts") or [] if isinstance(p, Mapping)]
    if parts:
        lines += ["### Checks", "", "| Part | Verdict | Measured | Samples | Reason |",
                  "|---|---|---|---|---|"]
        unit = str(record.get("unit", ""))
        for part in parts:
            cells = [
                str(part.get("scope") or part.get("test") or "measurement"),
                verdict_badge(str(part.get("verdict"))),
                format_value(part.get("measured"), unit),
                str(part.get("samples", 0)),
                one_line(str(part.get("reason") or ""), 300),
            ]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
        for part in parts:
            lines += _check_lines(part)
    if missing:
        listed = ", ".join(f"`{m}`" for m in missing)
        lines += [f"**Evidence files missing or unreadable:** {listed}", ""]
    return "\n".join(lines)


class _AllureRun:
    def __init__(self, directory: Path, measurements_dir: Path, redact: Redactor) -> None:
        self.results = ResultsDir(directory)
        self.measurements_dir = measurements_dir
        self.redact = redact

    def criterion(self, record: Record, profile: str) -> None:
        attachments: list[Attachment] = []
        missing: list[str] = []
        for relative in record.get("attachments") or []:
            attached = attach_evidence(
                self.results, self.measurements_dir, str(relative), self.redact
            )
            if attached is None:
                missing.append(str(relative))
            else:
                attachments.append(attached)
        # The record itself is already redacted: the whole summary passes through the redactor.
        record_json = json.dumps(record, indent=2, ensure_ascii=False, default=str)
        attachments.append(attach_bytes(
            self.results, record_json.encode("utf-8"), "measurement.json",
            AttachmentType.JSON.mime_type, "json",
        ))
        verdict = str(record.get("verdict"))
        message = status_message(record)
        criterion_id = str(record["id"])
        # No start/stop: a criterion is judged from many measurements after the fact, and the
        # run's duration on every row would read as each criterion taking that long.
        result = TestResult(
            uuid=str(uuid.uuid4()),
            historyId=stable_id(criterion_id),
            testCaseId=stable_id(criterion_id),
            fullName=f"releasegate.{criterion_id}",
            name=f"{criterion_id} — {record.get('title') or criterion_id}",
            status=_status(verdict),
            statusDetails=StatusDetails(message=message) if message else None,
            stage="finished",
            description=_description(record, missing),
            labels=_labels(record, profile),
            parameters=_parameters(record),
            steps=[_part_step(p, record) for p in record.get("parts") or []
                   if isinstance(p, Mapping)],
            attachments=attachments,
        )
        self.results.result(result)

    def excluded(self, item: Mapping[str, str], profile: str) -> None:
        """An excluded criterion is listed, skipped, with the profile's reason: never hidden."""
        criterion_id = item["id"]
        reason = (f"excluded by the profile: {item.get('reason', '')}"
                  + (f" (approved by {item['approved_by']})" if item.get("approved_by") else "")
                  + (f", until {item['expires']}" if item.get("expires") else ""))
        known = catalog.BY_ID.get(criterion_id)
        area = known.area.value if known else "Unknown"
        result = TestResult(
            uuid=str(uuid.uuid4()), historyId=stable_id(criterion_id),
            testCaseId=stable_id(criterion_id), fullName=f"releasegate.{criterion_id}",
            name=f"{criterion_id} — {item.get('title') or criterion_id}",
            status=Status.SKIPPED, statusDetails=StatusDetails(message=one_line(reason, 2000)),
            stage="finished", description=f"**{reason}**",
            labels=[
                Label(name=LabelType.EPIC, value=area),
                Label(name=LabelType.FEATURE, value=criterion_id),
                Label(name=LabelType.STORY, value=str(item.get("title") or criterion_id)),
                Label(name=LabelType.TAG, value="excluded"),
                Label(name=LabelType.SUITE, value=area),
                Label(name=LabelType.PARENT_SUITE, value=profile),
                Label(name=LabelType.FRAMEWORK, value="releasegate"),
            ],
        )
        self.results.result(result)

    def aborted(self, error: Mapping[str, str], profile: str) -> None:
        category = error["category"]
        lines = [f"**💥 The run aborted: {category}.**", "", error["message"], ""]
        if error.get("hint"):
            lines += [f"**How to fix:** {error['hint']}", ""]
        lines.append("No criterion was judged; nothing in this report is a release decision.")
        result = TestResult(
            uuid=str(uuid.uuid4()),
            historyId=stable_id("RUN"),
            testCaseId=stable_id("RUN"),
            fullName="releasegate.RUN",
            name="Run aborted",
            status=Status.BROKEN,
            statusDetails=StatusDetails(
                message=f"{category}: {one_line(error['message'], 4000)}",
                trace=error.get("hint") or None,
            ),
            stage="finished",
            description="\n".join(lines),
            labels=[
                Label(name=LabelType.EPIC, value="Run"),
                Label(name=LabelType.FEATURE, value="RUN"),
                Label(name=LabelType.SEVERITY, value="blocker"),
                Label(name=LabelType.TAG, value="blocking"),
                Label(name=LabelType.SUITE, value="Run"),
                Label(name=LabelType.PARENT_SUITE, value=profile),
                Label(name=LabelType.FRAMEWORK, value="releasegate"),
            ],
        )
        self.results.result(result)


def write_allure_results(
    summary: Mapping[str, Any],
    results_dir: Path,
    *,
    measurements_dir: Path,
    redact: Redactor = identity,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Replace ``results_dir`` with the Allure results of ``summary``.

    The directory is removed first: Allure reads every result file it finds, and a result left
    over from an earlier run would mix an old pass into this run's report.
    ``summary`` is expected to be redacted already; ``redact`` covers copied text attachments
    and CI variables, which do not pass through the summary.
    """
    if results_dir.exists():
        shutil.rmtree(results_dir)
    results_dir.mkdir(parents=True)
    profile = profile_name(summary)
    allure = _AllureRun(results_dir, measurements_dir, redact)
    for record in records(summary):
        allure.criterion(record, profile)
    for item in excluded(summary):
        allure.excluded(item, profile)
    error = run_error(summary)
    if error is not None:
        allure.aborted(error, profile)
    write_context(summary, results_dir, env=os.environ if env is None else env, redact=redact)
    return results_dir

