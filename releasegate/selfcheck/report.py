"""The detection matrix on disk: selfcheck.json, selfcheck.md and an Allure report of its own."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path

from allure_commons.model2 import Label, Status, StatusDetails, TestResult
from allure_commons.types import LabelType

from releasegate.report.allure_files import ResultsDir
from releasegate.report.files import write_atomic
from releasegate.selfcheck.matrix import ALARM, Matrix

_BADGE = {"fail": "❌ fail", "pass": "✅ pass", "error": "💥 error",
          "insufficient": "⚠️ insufficient", "not_run": "⏭️ not run"}


def headline(matrix: Matrix) -> str:
    caught = sum(v.caught for v in matrix.variants)
    alarms = len(matrix.false_alarms)
    text = (f"Self-check: {caught} of {len(matrix.variants)} variants caught "
            f"({matrix.score:.0%}), {alarms} false alarm{'s' if alarms != 1 else ''}")
    if matrix.clean_failures:
        text += f", the clean application did not run in {len(matrix.clean_failures)} gate(s)"
    return text


def render_markdown(matrix: Matrix) -> str:
    icon = "✅" if matrix.passed else "❌"
    lines = [f"# {icon} {headline(matrix)}", "",
             f"Took {matrix.seconds / 60:.1f} min. Score = variants caught by every criterion "
             "they name / variants; a false alarm is a criterion the clean application fails "
             "or errors on when it runs the same suites, whole.", "",
             "## Detection matrix (variant × criterion it must turn red)", "",
             "| variant | criterion → verdict | caught | exit | time |", "|---|---|---|---|---|"]
    for v in matrix.variants:
        cells = ", ".join(f"{c} → {_BADGE.get(v.outcome.verdicts.get(c, 'not_run'), '?')}"
                          for c in v.expect)
        lines.append(f"| `{v.name}` | {cells} | {'yes' if v.caught else '**no**'} | "
                     f"{v.outcome.exit_code} | {v.outcome.seconds:.0f} s |")
    lines += ["", "## The clean application through the same suites", "",
              "| suites, run whole | criteria judged | not green | time |", "|---|---|---|---|"]
    for gate, outcome in matrix.clean.items():
        odd = [f"{c} {v}" for c, v in outcome.verdicts.items() if v not in ("pass", "waived")]
        shown = ", ".join(odd) if odd else ("none" if outcome.ran else "**did not run**")
        lines.append(f"| `{gate}` | {len(outcome.verdicts)} | {shown} | "
                     f"{outcome.seconds:.0f} s |")
    alarms = matrix.false_alarms
    lines += ["", "## False alarms", ""]
    lines += [f"- **{c}**: {reason}" for c, reason in alarms.items()] or ["None."]
    missed = [v for v in matrix.variants if not v.caught]
    if missed:
        lines += ["", "## Missed", ""]
        for v in missed:
            if not v.outcome.ran:
                lines.append(f"- `{v.name}` ({v.description}): the gate did not run (exit "
                             f"{v.outcome.exit_code}); its output is in "
                             f"`{v.outcome.reports}/selfcheck-output.txt`")
                continue
            lines.append(f"- `{v.name}` ({v.description}): "
                         + "; ".join(f"{c} was {v.outcome.verdicts.get(c, 'not judged')}: "
                                     f"{v.outcome.reasons.get(c, '')}" for c in v.missed))
    return "\n".join(lines) + "\n"


def _stable(key: str) -> str:
    return hashlib.md5(f"releasegate-selfcheck:{key}".encode(), usedforsecurity=False).hexdigest()


def write_allure(matrix: Matrix, results: Path) -> Path:
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    out = ResultsDir(results)
    for v in matrix.variants:
        message = None if v.caught else "missed: " + "; ".join(
            f"{c} was {v.outcome.verdicts.get(c, 'not judged')}" for c in v.missed)
        out.result(TestResult(
            uuid=str(uuid.uuid4()), historyId=_stable(v.name), testCaseId=_stable(v.name),
            fullName=f"selfcheck.{v.name}", name=f"{v.name} is caught by {', '.join(v.expect)}",
            status=Status.PASSED if v.caught else Status.FAILED,
            statusDetails=StatusDetails(message=message) if message else None, stage="finished",
            description=v.description,
            labels=[Label(name=LabelType.EPIC, value="Self-check"),
                    Label(name=LabelType.FEATURE, value="Detection"),
                    Label(name=LabelType.STORY, value=v.name),
                    Label(name=LabelType.TAG, value="blocking")]))
    for gate, outcome in matrix.clean.items():
        alarms = [c for c, verdict in outcome.verdicts.items() if verdict in ALARM]
        failed = bool(alarms) or not outcome.ran
        out.result(TestResult(
            uuid=str(uuid.uuid4()), historyId=_stable(gate), testCaseId=_stable(gate),
            fullName=f"selfcheck.clean.{gate}", name=f"clean application: {gate}",
            status=Status.FAILED if failed else Status.PASSED,
            statusDetails=StatusDetails(message="false alarms: " + ", ".join(alarms)
                                        if alarms else "did not run") if failed else None,
            stage="finished",
            labels=[Label(name=LabelType.EPIC, value="Self-check"),
                    Label(name=LabelType.FEATURE, value="False alarms"),
                    Label(name=LabelType.TAG, value="blocking")]))
    return results


def write_selfcheck(matrix: Matrix, reports_dir: Path) -> dict[str, Path]:
    reports_dir.mkdir(parents=True, exist_ok=True)
    return {
        "json": write_atomic(reports_dir / "selfcheck.json",
                             json.dumps(matrix.to_json(), indent=2, ensure_ascii=False) + "\n"),
        "md": write_atomic(reports_dir / "selfcheck.md", render_markdown(matrix)),
        "allure": write_allure(matrix, reports_dir / "selfcheck" / "allure-results"),
    }
