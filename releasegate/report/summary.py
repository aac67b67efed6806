"""The run summary: the one document every report is rendered from.

``reports/summary.json`` is this dict serialized. Reports read it defensively (``.get`` with
defaults) because a summary may come from an older run in ``reports/history/`` or from a run
that aborted before it knew its profile; a missing field must never crash the report of a
failure, or the failure would go unreported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from releasegate.criteria import catalog
from releasegate.criteria.release import PARTIAL_NOTE, Coverage, ExitCode

SCHEMA = "releasegate.summary/1"

Summary = dict[str, Any]
Record = dict[str, Any]


def run_info(summary: Mapping[str, Any]) -> dict[str, Any]:
    run = summary.get("run")
    return dict(run) if isinstance(run, Mapping) else {}


def release_info(summary: Mapping[str, Any]) -> dict[str, Any]:
    release = summary.get("release")
    return dict(release) if isinstance(release, Mapping) else {}


def records(summary: Mapping[str, Any]) -> list[Record]:
    items = summary.get("criteria")
    if not isinstance(items, list):
        return []
    return [dict(item) for item in items if isinstance(item, Mapping) and item.get("id")]


def id_list(summary: Mapping[str, Any], key: str) -> list[str]:
    items = summary.get(key)
    return [str(item) for item in items] if isinstance(items, list) else []


def run_error(summary: Mapping[str, Any]) -> dict[str, str] | None:
    error = summary.get("error")
    if not isinstance(error, Mapping):
        return None
    return {
        "message": str(error.get("message") or "the run stopped before it produced evidence"),
        "hint": str(error.get("hint") or ""),
        "category": str(error.get("category") or "harness error"),
    }


def profile_name(summary: Mapping[str, Any]) -> str:
    run = run_info(summary)
    return str(run.get("profile_name") or run.get("profile") or "unknown profile")


def excluded(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    """Documented criteria the profile explicitly does not require, with why."""
    items = summary.get("excluded")
    if not isinstance(items, list):
        return []
    return [{str(k): str(v) for k, v in item.items()} for item in items
            if isinstance(item, Mapping) and item.get("id")]


def is_partial(summary: Mapping[str, Any]) -> bool:
    return bool(run_info(summary).get("partial") or release_info(summary).get("partial"))


def headline_text(summary: Mapping[str, Any]) -> str:
    """The one line every output leads with: verdict and the coverage it rests on."""
    release = release_info(summary)
    if run_error(summary) is not None and not release.get("headline"):
        return "HARNESS ERROR — the run aborted before it was measured"
    if release.get("headline"):
        return str(release["headline"])
    # A summary from before coverage was recorded: say what it says, no more.
    verdict = str(release.get("verdict") or "unknown")
    text = f"{verdict.upper()} — {len(records(summary))} criteria judged"
    return f"{PARTIAL_NOTE}: {text}" if is_partial(summary) else text


def title_of(criterion_id: str) -> str:
    known = catalog.BY_ID.get(criterion_id)
    return known.title if known else criterion_id


def not_run_record(criterion_id: str, reason: str) -> Record:
    """The record of a criterion nobody measured: it blocks exactly like a failure."""
    known = catalog.BY_ID.get(criterion_id)
    return {
        "id": criterion_id,
        "title": known.title if known else criterion_id,
        "area": known.area.value if known else "Unknown",
        "measured": None,
        "unit": known.unit if known else catalog.VIOLATIONS,
        "limit": known.limit if known else 0,
        "comparator": known.comparator.value if known else catalog.Comparator.LE.value,
        "verdict": "not_run",
        "evidence": {},
        "source": "",
        "severity": known.severity if known else "blocker",
        "blocking": True,
        "documented_limit": known.limit if known else None,
        "samples": 0,
        "min_samples": known.min_samples if known else 0,
        "reasons": [reason],
        "attachments": [],
        "waiver": None,
        "parts": [],
    }


def error_summary(
    *,
    message: str,
    category: str = "harness error",
    hint: str = "",
    run: Mapping[str, Any] | None = None,
    criteria: Iterable[str] = (),
    now: datetime | None = None,
) -> Summary:
    """The summary of a run that aborted: verdict error, exit 1, every criterion not run.

    Written in place of whatever summary the previous run left, so no stale report can claim
    a pass for a run that never produced evidence.
    """
    moment = (now or datetime.now(timezone.utc)).isoformat()
    base: dict[str, Any] = {
        "id": "unknown", "started_at": moment, "finished_at": moment, "duration_s": 0.0,
        "profile": "", "profile_name": "", "provider": "", "suites": [], "partial": False,
        "target": "", "environment": {}, "timings": {},
    }
    base.update(dict(run or {}))
    base.setdefault("finished_at", moment)
    reason = f"the run aborted before it was measured ({category}: {message})"
    criteria_records = [not_run_record(cid, reason) for cid in dict.fromkeys(criteria)]
    coverage = Coverage(documented=len(catalog.CRITERIA), required=len(criteria_records),
                        excluded=0, in_scope=len(criteria_records), assessed=0,
                        not_run=len(criteria_records))
    return {
        "schema": SCHEMA,
        "run": base,
        "release": {
            "verdict": "error",
            "exit_code": int(ExitCode.HARNESS_ERROR),
            "blockers": [r["id"] for r in criteria_records],
            "warnings": [],
            "reason": f"run aborted: {message}",
            "partial": bool(base.get("partial")),
            "headline": f"HARNESS ERROR — the run aborted ({category}): 0 of "
                        f"{coverage.documented} documented criteria assessed",
            "coverage": coverage.to_json(),
        },
        "coverage": coverage.to_json(),
        "criteria": criteria_records,
        "excluded": [],
        "out_of_scope": [],
        "stray": [],
        "harness_errors": [],
        "error": {"message": message, "hint": hint, "category": category},
    }
