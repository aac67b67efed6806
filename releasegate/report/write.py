"""The one entry point that turns a run summary into every report on disk.

Order matters. Reports left by the previous run are deleted first, so a crash half-way leaves
fewer reports, never an old one that claims a pass; summary.json (the machine-readable verdict)
is written before anything optional; HTML comes last and may fail without consequence.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from releasegate.errors import HarnessError
from releasegate.evidence.redact import Redactor, identity, redact_tree
from releasegate.report.allure_results import write_allure_results
from releasegate.report.files import write_atomic
from releasegate.report.history import HISTORY_DIR, series
from releasegate.report.html import OUTPUT, generate_html
from releasegate.report.junit import write_junit
from releasegate.report.markdown import write_markdown
from releasegate.report.sarif import write_sarif
from releasegate.report.summary import (
    Summary,
    error_summary,
    headline_text,
    profile_name,
)
from releasegate.report.trends import TRENDS_DIR, trends, write_plots

Progress = Callable[[str], None]

SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
JUNIT_XML = "junit.xml"
SECURITY_SARIF = "security.sarif"
ALLURE_RESULTS = "allure-results"
MEASUREMENTS = Path("run") / "measurements"


def _link(relative: str) -> str:
    # Relative to summary.md, which sits in the reports directory: clickable in CI artifacts.
    return f"[{relative}]({relative})"


def _remove_stale(reports_dir: Path) -> None:
    for name in (SUMMARY_MD, JUNIT_XML, SECURITY_SARIF):
        (reports_dir / name).unlink(missing_ok=True)
    for folder in (OUTPUT, TRENDS_DIR):
        shutil.rmtree(reports_dir / folder, ignore_errors=True)


def write_reports(
    summary: Mapping[str, Any],
    reports_dir: Path,
    *,
    previous: Mapping[str, Any] | None,
    html: bool,
    progress: Progress = print,
    redact: Redactor = identity,
    env: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write summary.json, summary.md, junit.xml, allure-results/ and optionally html/.

    ``redact`` is applied to every string of the summary (and of ``previous``) before any
    writer sees it, and to the text of every copied attachment. Returns what was written, by
    name: "summary.json", "summary.md", "junit.xml", "allure-results" and, when generated,
    "html".
    """
    clean: Summary = redact_tree(dict(summary), redact)
    before = redact_tree(dict(previous), redact) if previous is not None else None
    reports_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale(reports_dir)
    written: dict[str, Path] = {}
    text = json.dumps(clean, indent=2, ensure_ascii=False, default=str) + "\n"
    written[SUMMARY_JSON] = write_atomic(reports_dir / SUMMARY_JSON, text)
    written[JUNIT_XML] = write_junit(clean, reports_dir / JUNIT_XML)
    written[SECURITY_SARIF] = write_sarif(clean, reports_dir / SECURITY_SARIF)

    evidence: dict[str, str] = {}
    try:
        written[ALLURE_RESULTS] = write_allure_results(
            clean, reports_dir / ALLURE_RESULTS, measurements_dir=reports_dir / MEASUREMENTS,
            redact=redact, env=os.environ if env is None else env,
        )
        allure_ok = True
    except OSError as exc:
        progress(f"Allure results not written: {exc}")
        evidence["Allure results"] = f"not written: {exc}"
        allure_ok = False

    if html and allure_ok:
        messages: list[str] = []

        def capture(message: str) -> None:
            messages.append(message)
            progress(message)

        name = f"releasegate · {profile_name(clean)} · {headline_text(clean)}"
        index = generate_html(reports_dir, capture, report_name=name)
        if index is not None:
            written[OUTPUT] = index
            relative = index.relative_to(reports_dir).as_posix()
            evidence["Interactive report (one HTML file, works offline)"] = _link(relative)
        else:
            evidence["Interactive report"] = messages[-1] if messages else "not generated"
    elif not html:
        evidence["Interactive report"] = "not requested for this run"

    evidence.update({
        "Machine-readable verdict": _link(SUMMARY_JSON),
        "JUnit for CI": _link(JUNIT_XML),
        "Security findings (SARIF 2.1.0)": _link(SECURITY_SARIF),
    })
    if allure_ok:
        evidence["Allure results"] = _link(f"{ALLURE_RESULTS}/")
    evidence["Raw measurements and attachments"] = _link(f"{MEASUREMENTS.as_posix()}/")
    for record in clean.get("criteria", []):  # plots (load, stress, soak), linked one by one
        for path in sorted({a for a in record.get("attachments") or [] if a.endswith(".png")}):
            evidence[f"Plot of {record['id']} ({Path(path).stem})"] = _link(
                f"{MEASUREMENTS.as_posix()}/{path}")
    evidence["Earlier summaries"] = _link("history/")
    found = trends(series(reports_dir / HISTORY_DIR, clean), clean)
    try:
        plots = write_plots(found, reports_dir)
    except (ImportError, OSError, ValueError) as exc:  # plots are a convenience
        progress(f"trend plots not drawn: {exc}")
        plots = {}
    written[SUMMARY_MD] = write_markdown(
        clean, reports_dir / SUMMARY_MD, previous=before, evidence=evidence, trend=found,
        plots=plots,
    )
    return written


def _describe(error: BaseException | Mapping[str, Any] | str) -> tuple[str, str, str]:
    """(message, category, hint) of whatever stopped the run."""
    if isinstance(error, HarnessError):
        return error.message, error.category, error.hint
    if isinstance(error, Mapping):
        return (str(error.get("message") or "the run aborted"),
                str(error.get("category") or "harness error"), str(error.get("hint") or ""))
    if isinstance(error, BaseException):
        return (str(error) or type(error).__name__), "harness error", ""
    return str(error), "harness error", ""


def write_error_summary(
    reports_dir: Path,
    error: BaseException | Mapping[str, Any] | str,
    *,
    run: Mapping[str, Any] | None = None,
    criteria: Iterable[str] = (),
    previous: Mapping[str, Any] | None = None,
    html: bool = False,
    progress: Progress = print,
    redact: Redactor = identity,
    env: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Reports for a run that aborted: verdict "error", exit code 1, every criterion not run.

    ``criteria`` are the IDs the profile asked for, when it was read far enough to know them.
    Rotate the previous summary (history.rotate_previous) before calling, as for any run.
    """
    message, category, hint = _describe(error)
    summary = error_summary(
        message=message, category=category, hint=hint, run=run, criteria=criteria
    )
    return write_reports(
        summary, reports_dir, previous=previous, html=html, progress=progress, redact=redact,
        env=env,
    )
