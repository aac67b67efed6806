"""summary.md: one page for a release manager who never reads logs.

The first line answers "can we ship?" in words; everything after it says why, what changed
since the previous run and where the evidence is. Nothing here decides anything: it renders the
release decision already in the summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from releasegate.evidence.findings import dedupe, findings_in, findings_table
from releasegate.report.files import write_atomic
from releasegate.report.formatting import (
    format_delta,
    format_duration,
    format_limit,
    format_measured,
    format_timestamp,
    format_value,
    one_line,
    parse_timestamp,
    verdict_badge,
    verdict_label,
)
from releasegate.report.history import REGRESSION_SHARE, CriterionChange, RunDiff, diff
from releasegate.report.matrix import matrix_section
from releasegate.report.summary import (
    Record,
    excluded,
    headline_text,
    id_list,
    is_partial,
    profile_name,
    records,
    release_info,
    run_error,
    run_info,
    title_of,
)
from releasegate.report.trends import Trend

RELEASE_WORDS = {
    "ready": "READY", "not_ready": "NOT READY", "insufficient": "NOT READY (insufficient)",
    "error": "HARNESS ERROR", "scope_passed": "SCOPE PASSED (partial)",
    "scope_failed": "SCOPE FAILED (partial)",
}
WAIVER_SOON_DAYS = 14


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


_ICON = {"ready": "✅", "scope_passed": "✅", "not_ready": "❌", "insufficient": "⚠️",
         "error": "💥"}


def headline(summary: Mapping[str, Any]) -> str:
    release = release_info(summary)
    verdict = str(release.get("verdict") or "")
    if run_error(summary) is not None:
        return f"# 💥 {headline_text(summary)}"
    icon = _ICON.get(verdict)
    if verdict == "scope_failed":
        icon = "❌" if int(release.get("exit_code") or 0) == 2 else "⚠️"
    # An unknown verdict is never read as good news.
    return f"# {icon or '💥'} {headline_text(summary)}"


def _build(run: Mapping[str, Any]) -> str:
    """What exactly was tested, when the run recorded it: the first thing to check on a rerun."""
    env = run.get("environment")
    if not isinstance(env, Mapping):
        return ""
    known = [("app image", "app_image"), ("git revision", "git_revision"),
             ("PostgreSQL", "postgres")]
    parts = [f"{label} `{env[key]}`" for label, key in known if env.get(key)]
    return f" ({', '.join(parts)})" if parts else ""


def _facts(summary: Mapping[str, Any]) -> list[str]:
    run, release = run_info(summary), release_info(summary)
    suites = run.get("suites")
    suite_text = ", ".join(map(str, suites)) if isinstance(suites, list) and suites else "none"
    profile = f"**{profile_name(summary)}**"
    if run.get("profile"):
        profile += f" (`{run['profile']}`)"
    lines = [
        f"- **Exit code:** {release.get('exit_code', '?')}"
        + (f" — {release['reason']}" if release.get("reason") else ""),
        f"- **Profile:** {profile}, provider {run.get('provider') or '?'}, suites {suite_text}",
        f"- **Target:** {run.get('target') or 'unknown'}{_build(run)}",
        f"- **Run:** `{run.get('id', 'unknown')}` — {format_timestamp(run.get('started_at'))},"
        f" took {format_duration(run.get('duration_s'))}",
    ]
    if is_partial(summary):
        why = run.get("partial_because")
        because = "; ".join(map(str, why)) if isinstance(why, list) and why else suite_text
        lines = [f"> **⚠️ Partial run ({because}): not a release decision.** Only the criteria "
                 "its selected tests declare were judged.", "", *lines]
    coverage = summary.get("coverage")
    if isinstance(coverage, Mapping):
        lines.append(
            f"- **Coverage:** {coverage.get('assessed', 0)} of {coverage.get('documented', 0)} "
            f"documented criteria assessed; {coverage.get('required', 0)} required, "
            f"{coverage.get('excluded', 0)} excluded by the profile, "
            f"{coverage.get('not_run', 0)} not run"
            + (f", {coverage.get('in_scope', 0)} in this run's scope" if is_partial(summary)
               else ""))
    return lines


def _error_section(summary: Mapping[str, Any]) -> list[str]:
    error = run_error(summary)
    if error is None:
        return []
    lines = ["## What went wrong", "", f"**{error['category']}:** {error['message']}", ""]
    if error["hint"]:
        lines += [f"**How to fix:** {error['hint']}", ""]
    lines += ["No criterion was judged in this run; this report is not a release decision.", ""]
    return lines


def _blocker_line(cid: str, record: Record | None) -> str:
    if record is None:
        return f"- **{cid}** — {title_of(cid)}"
    reason = one_line([str(r) for r in record.get("reasons") or []]) or "no reason recorded"
    return (f"- **{cid}** — {record.get('title', cid)} — {verdict_badge(str(record['verdict']))}:"
            f" {reason}")


def _blockers(summary: Mapping[str, Any]) -> list[str]:
    release = release_info(summary)
    by_id = {r["id"]: r for r in records(summary)}
    lines = ["## Blockers", ""]
    blockers = id_list(release, "blockers")
    if blockers:
        lines += [_blocker_line(cid, by_id.get(cid)) for cid in blockers]
    elif run_error(summary) is not None or not by_id:
        lines.append("No criterion was judged, so there is no list of blockers to trust.")
    else:
        lines.append("None — every blocking criterion met its limit or is validly waived.")
    lines.append("")
    warnings = id_list(release, "warnings")
    if warnings:
        lines += ["### Warnings (non-blocking)", ""]
        lines += [_blocker_line(cid, by_id.get(cid)) for cid in warnings]
        lines.append("")
    return lines


def _delta_cell(change: CriterionChange | None, has_previous: bool, share: float) -> str:
    if not has_previous:
        return "—"
    if change is None or change.before is None:
        return "new"
    parts: list[str] = []
    if change.verdict_changed:
        parts.append(f"{verdict_label(change.before)} → {verdict_label(change.after or '')}")
    if change.delta:
        parts.append(f"{format_delta(change.delta, change.unit)} ({change.direction})"
                     if change.direction else format_delta(change.delta, change.unit))
    if change.regression(share):
        parts.append("⚠️ regression")
    return ", ".join(parts) or "no change"


def _share(summary: Mapping[str, Any]) -> float:
    value = run_info(summary).get("regression_share")
    return float(value) if isinstance(value, (int, float)) else REGRESSION_SHARE


def _table(summary: Mapping[str, Any], run_diff: RunDiff | None,
           found: Mapping[str, Trend]) -> list[str]:
    items = records(summary)
    lines = ["## Criteria", ""]
    if not items:
        return [*lines, "No criterion was judged.", ""]
    lines += ["| ID | Criterion | Measured | Limit | Verdict | Δ since previous run |",
              "|---|---|---|---|---|---|"]
    for r in items:
        verdict = verdict_badge(str(r.get("verdict")))
        if not r.get("blocking", True):
            verdict += " (non-blocking)"
        if r["id"] in found and found[r["id"]].unstable:
            verdict += " ⚠️ unstable"
        change = run_diff.changes.get(r["id"]) if run_diff else None
        cells = [r["id"], r.get("title", ""), format_measured(r), format_limit(r), verdict,
                 _delta_cell(change, run_diff is not None, _share(summary))]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*lines, ""]


def _changes(run_diff: RunDiff | None, share: float) -> list[str]:
    lines = ["## Change since the previous run", ""]
    if run_diff is None:
        return [*lines, "No previous run to compare with.", ""]
    before = RELEASE_WORDS.get(run_diff.release_before, run_diff.release_before.upper())
    after = RELEASE_WORDS.get(run_diff.release_after, run_diff.release_after.upper())
    lines += [f"Compared with run `{run_diff.previous_run_id}` of "
              f"{format_timestamp(run_diff.previous_started_at)}: release {before} → {after}.", ""]
    regressed = run_diff.regressions(share)
    if regressed:
        lines += [f"**⚠️ Regressions beyond {share:.0%}** (worse than the baseline by more than "
                  "that share, even where the limit still holds)", ""]
        lines += [f"- {c.id} {format_value(c.measured_before, c.unit)} → "
                  f"{format_value(c.measured_after, c.unit)} — {c.title}" for c in regressed]
        lines.append("")
    verdicts = run_diff.verdict_changes
    measured = run_diff.measured_changes
    if not verdicts and not measured:
        return [*lines, "No verdict changed and no measured value moved.", ""]
    if verdicts:
        lines += ["**Verdict changes**", ""]
        for c in verdicts:
            lines.append(f"- {c.id} {c.before or 'absent'} → {c.after or 'not judged'}"
                         f" — {c.title}")
        lines.append("")
    if measured:
        lines += ["**Measured values**", ""]
        for c in measured:
            if c.delta is None:
                continue
            moved = format_delta(c.delta, c.unit)
            if c.direction:
                moved += f", {c.direction}"
            lines.append(f"- {c.id} {format_value(c.measured_before, c.unit)} → "
                         f"{format_value(c.measured_after, c.unit)} ({moved})")
        lines.append("")
    return lines


def _run_date(summary: Mapping[str, Any]) -> date:
    moment = parse_timestamp(run_info(summary).get("started_at"))
    return moment.date() if moment else date.today()


def _waivers(summary: Mapping[str, Any]) -> list[str]:
    items = records(summary)
    waived = [r for r in items if isinstance(r.get("waiver"), Mapping)]
    expired = [(r, str(reason)) for r in items for reason in r.get("reasons") or []
               if "waiver expired" in str(reason)]
    if not waived and not expired:
        return []
    lines = ["## Waivers", ""]
    if waived:
        today = _run_date(summary)
        lines += ["| ID | Verdict | Reason | Approved by | Expires | Days left |",
                  "|---|---|---|---|---|---|"]
        for r in waived:
            waiver = r["waiver"]
            expires = str(waiver.get("expires") or "")
            try:
                days = (date.fromisoformat(expires) - today).days
                left = f"⚠️ {days}" if days <= WAIVER_SOON_DAYS else str(days)
            except ValueError:
                left = "unknown"
            cells = [r["id"], verdict_badge(str(r.get("verdict"))), waiver.get("reason", ""),
                     waiver.get("approved_by") or "—", expires or "—", left]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines += ["", f"Days left are counted from the run date, {today.isoformat()}.", ""]
    if expired:
        lines += ["**Expired waivers** (the documented limit applies again):", ""]
        lines += [f"- {r['id']}: {one_line(reason)}" for r, reason in expired]
        lines.append("")
    return lines


def _not_assessed(summary: Mapping[str, Any]) -> list[str]:
    lines = ["## Not assessed", ""]
    if run_error(summary) is not None:
        return [*lines, "Unknown: the run aborted before its scope was settled.", ""]
    items = records(summary)
    not_run = [r for r in items if r.get("verdict") == "not_run"]
    if not_run:
        lines += ["**Not run (required; no suite evaluated them — each blocks the release):**", "",
                  *[f"- {r['id']} — {r.get('title', r['id'])}" for r in not_run], ""]
    dropped = excluded(summary)
    if dropped:
        lines += ["**Excluded by the profile:**", "", "| ID | Criterion | Reason | Approved by "
                  "| Expires |", "|---|---|---|---|---|"]
        for item in dropped:
            cells = [item["id"], item.get("title", ""), item.get("reason", ""),
                     item.get("approved_by") or "—", item.get("expires") or "never"]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    groups = [("Out of scope (no selected test declares them in this partial run)",
               "out_of_scope"),
              ("Measured but not required by the profile (not judged)", "stray")]
    for label, key in groups:
        ids = id_list(summary, key)
        if ids:
            lines += [f"**{label}:**", "", *[f"- {cid} — {title_of(cid)}" for cid in ids], ""]
    errors = id_list(summary, "harness_errors")
    if errors:
        lines += ["**Tests that failed outside any criterion (harness errors):**", "",
                  *[f"- {one_line(e, 300)}" for e in errors], ""]
    if len(lines) == 2:
        lines += ["Every documented criterion was assessed in this run.", ""]
    return lines


def _security_findings(summary: Mapping[str, Any], limit: int = 40) -> list[str]:
    """Open findings of every criterion, one de-duplicated table (waived ones are not open)."""
    found = dedupe(f for r in records(summary) for part in r.get("parts") or []
                   if isinstance(part, Mapping) for f in findings_in(part.get("evidence")))
    if not found:
        return []
    counts: dict[str, int] = {}
    for f in found:
        counts[f.criterion] = counts.get(f.criterion, 0) + 1
    per = ", ".join(f"{cid} {n}" for cid, n in sorted(counts.items()))
    more = (f" The first {limit} are shown; the rest are in security.sarif."
            if len(found) > limit else "")
    return ["## Security findings", "", f"{_plural(len(found), 'open finding', 'open findings')}"
            f" ({per}); each criterion's findings table is attached to it, and all are in "
            f"security.sarif.{more}", "", *findings_table(found[:limit]), ""]


def _evidence(evidence: Mapping[str, str]) -> list[str]:
    if not evidence:
        return []
    return ["## Where the evidence lives", "",
            *[f"- **{label}:** {where}" for label, where in evidence.items()], ""]


def _trends(found: Mapping[str, Trend], plots: Mapping[str, str]) -> list[str]:
    shown = {cid: t for cid, t in found.items() if len(t.points) >= 2}
    if not shown:
        return []
    lines = ["## Trends over the kept history", "",
             "| ID | runs | min | median | max | CV | plot | note |",
             "|---|---|---|---|---|---|---|---|"]
    for cid, t in shown.items():
        values = sorted(t.values)
        cv = f"{t.cv:.1%}" if t.cv is not None else "—"
        plot = f"[plot]({plots[cid]})" if cid in plots else "—"
        note = "⚠️ unstable: within its own noise of the limit" if t.unstable else ""
        cells = [cid, str(len(values)), format_value(values[0], t.unit),
                 format_value(values[len(values) // 2], t.unit), format_value(values[-1], t.unit),
                 cv, plot, note]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*lines, ""]


def render_markdown(
    summary: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    *,
    evidence: Mapping[str, str] | None = None,
    trend: Mapping[str, Trend] | None = None,
    plots: Mapping[str, str] | None = None,
) -> str:
    run_diff = diff(previous, summary)
    found = trend or {}
    sections = [
        [headline(summary), ""],
        _facts(summary),
        [""],
        _error_section(summary),
        _blockers(summary),
        _table(summary, run_diff, found),
        matrix_section(summary.get("criteria") or []),
        _security_findings(summary),
        _changes(run_diff, _share(summary)),
        _trends(found, plots or {}),
        _waivers(summary),
        _not_assessed(summary),
        _evidence(evidence or {}),
    ]
    text = "\n".join(line for section in sections for line in section)
    return text.rstrip() + "\n"


def write_markdown(
    summary: Mapping[str, Any],
    path: Path,
    *,
    previous: Mapping[str, Any] | None = None,
    evidence: Mapping[str, str] | None = None,
    trend: Mapping[str, Trend] | None = None,
    plots: Mapping[str, str] | None = None,
) -> Path:
    return write_atomic(path, render_markdown(summary, previous, evidence=evidence, trend=trend,
                                              plots=plots))
