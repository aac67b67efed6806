"""Joining the summaries of several runs (one per CI job, say) into one verdict and one report.

Fail closed, like a single run:

- a criterion some input judged takes the **worst** of the inputs' verdicts (a failure in one
  job is never outvoted by a pass in another);
- a part an input left to another job on purpose (a ``not_run`` part, e.g. a matrix cell run by
  another ``--cell`` job) gives way to a part of the same scope that another input measured; a
  scope no input measured stays ``not_run`` and blocks;
- a criterion no input judged stays out of the merged scope (a partial merge) or, when an
  input was a whole run, cannot happen: a whole run judges every required criterion;
- harness errors of any input are harness errors of the merge.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from releasegate.criteria import catalog
from releasegate.criteria.release import decide
from releasegate.criteria.verdict import Verdict, VerdictRecord
from releasegate.errors import HarnessError

# Worst first; unlike a single record's parts, inputs may carry a waived verdict.
_ORDER = ("fail", "error", "insufficient", "not_run", "waived", "pass")
MEASUREMENTS = Path("run") / "measurements"


def _worst(verdicts: Sequence[str]) -> str:
    return min(verdicts, key=lambda v: _ORDER.index(v) if v in _ORDER else 0)


def load_inputs(folders: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, summary) for every reports folder; a missing or broken one is a harness error."""
    found = []
    for folder in folders:
        path = folder / "summary.json" if folder.is_dir() else folder
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise HarnessError(f"cannot read {path}: {exc}",
                               hint="pass the reports folders of finished runs") from None
        if not isinstance(data, dict) or "criteria" not in data or data.get("error"):
            why = (data.get("error") or {}).get("message", "no verdicts") \
                if isinstance(data, dict) else "not a summary"
            raise HarnessError(f"{path} holds no judged run ({why})",
                               hint="a job whose run broke has nothing to merge: rerun it")
        found.append((path.parent, data))
    if not found:
        raise HarnessError("nothing to merge", hint="pass at least one reports folder")
    return found


def _measured_scopes(records: Sequence[Mapping[str, Any]]) -> set[str]:
    return {str(p.get("scope")) for r in records for p in r.get("parts") or []
            if p.get("verdict") != "not_run" and p.get("scope")}


def merge_records(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One criterion's records from several inputs, as one record."""
    if len(records) == 1:
        return dict(records[0])
    measured = _measured_scopes(records)
    verdicts, parts, reasons, attachments = [], [], [], []
    for record in records:
        own = [p for p in record.get("parts") or []]
        kept = [p for p in own if not (p.get("verdict") == "not_run"
                                       and str(p.get("scope")) in measured)]
        if kept != own:  # placeholders gave way: this input now speaks only for what it kept
            verdicts.append(_worst([str(p.get("verdict")) for p in kept]) if kept else "pass")
        else:
            verdicts.append(str(record.get("verdict")))
        parts += kept
        reasons += [str(p.get("reason")) if not p.get("scope") else
                    f"[{p['scope']}] {p.get('reason')}" for p in kept if p.get("reason")]
        reasons += [r for r in record.get("reasons") or [] if not str(r).startswith("[")]
        attachments += [a for a in record.get("attachments") or [] if a not in attachments]
    verdict = _worst(verdicts)
    speaker = next((r for r, v in zip(records, verdicts, strict=True) if v == verdict),
                   records[0])
    merged = dict(speaker)
    merged.update({"verdict": verdict, "parts": parts, "attachments": attachments,
                   "reasons": list(dict.fromkeys(reasons)),
                   "samples": sum(int(p.get("samples") or 0) for p in parts),
                   "source": "; ".join(sorted({str(r.get("source")) for r in records
                                               if r.get("source")}))})
    return merged


def merge_summaries(inputs: Sequence[tuple[Path, Mapping[str, Any]]]) -> dict[str, Any]:
    """The merged summary (same schema as a run's) of ``inputs``."""
    summaries = [s for _, s in inputs]
    order = {c.id: i for i, c in enumerate(catalog.CRITERIA)}
    judged: dict[str, list[Mapping[str, Any]]] = {}
    required: set[str] = set()
    for summary in summaries:
        for record in summary["criteria"]:
            judged.setdefault(str(record["id"]), []).append(record)
        required |= set(summary.get("out_of_scope") or []) | {
            str(r["id"]) for r in summary["criteria"]}
    records = [merge_records(judged[cid]) for cid in sorted(judged, key=lambda c:
                                                            order.get(c, len(order)))]
    out_of_scope = sorted(required - set(judged), key=lambda c: order.get(c, len(order)))
    excluded = {str(e["id"]): e for s in summaries for e in s.get("excluded") or []}
    harness_errors = [e for s in summaries for e in s.get("harness_errors") or []]
    partial = bool(out_of_scope)
    decision = decide([VerdictRecord.from_json(dict(r)) for r in records], partial=partial,
                      required=len(required), excluded=len(excluded),
                      harness_errors=harness_errors)
    first = summaries[0]["run"]
    run = dict(first)
    run.update({
        "id": "merged-" + "-".join(str(s["run"].get("id")) for s in summaries),
        "started_at": min(str(s["run"].get("started_at")) for s in summaries),
        "finished_at": max(str(s["run"].get("finished_at")) for s in summaries),
        "duration_s": round(sum(float(s["run"].get("duration_s") or 0) for s in summaries), 2),
        "suites": sorted({x for s in summaries for x in s["run"].get("suites") or []}),
        "partial": partial,
        "partial_because": [f"merged from {len(summaries)} runs whose scopes leave "
                            f"{len(out_of_scope)} criteria out"] if partial else [],
        "merged_from": [{"folder": str(folder), "id": s["run"].get("id"),
                         "verdict": s["release"].get("verdict"),
                         "headline": s["release"].get("headline")} for folder, s in inputs],
    })
    return {"schema": summaries[0].get("schema"), "run": run, "release": decision.to_json(),
            "coverage": decision.coverage.to_json() if decision.coverage else None,
            "criteria": records, "excluded": list(excluded.values()),
            "out_of_scope": out_of_scope,
            "stray": sorted({x for s in summaries for x in s.get("stray") or []}),
            "harness_errors": harness_errors, "error": None}


def copy_evidence(inputs: Sequence[tuple[Path, Mapping[str, Any]]], reports_dir: Path) -> int:
    """Every input's measurements and attachments into the merged reports folder (attachment
    names carry a random prefix, so inputs do not collide). Returns how many files."""
    target = reports_dir / MEASUREMENTS
    copied = 0
    for folder, _ in inputs:
        source = folder / MEASUREMENTS
        if not source.is_dir() or source.resolve() == target.resolve():
            continue
        for path in source.rglob("*"):
            if path.is_file():
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                if not dest.exists():
                    shutil.copy2(path, dest)
                    copied += 1
    return copied


def verdict_of(summary: Mapping[str, Any], criterion: str) -> Verdict | None:
    for record in summary.get("criteria") or []:
        if record.get("id") == criterion:
            return Verdict(record["verdict"])
    return None
