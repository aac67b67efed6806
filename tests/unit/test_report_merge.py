"""`releasegate report --merge`: several runs' summaries → one verdict, fail-closed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from releasegate.cli import main
from releasegate.criteria.verdict import Verdict, VerdictRecord
from releasegate.errors import HarnessError
from releasegate.report.merge import load_inputs, merge_summaries


def _part(scope: str, verdict: str) -> dict[str, Any]:
    python, pg = scope.removeprefix("py").split("-pg")
    return {"scope": scope, "verdict": verdict, "samples": 0 if verdict == "not_run" else 1,
            "reason": "left to another job" if verdict == "not_run" else "",
            "evidence": {"cell": scope, "python": python, "postgres": int(pg),
                         "status": {"pass": "passed", "fail": "failed"}.get(verdict, "not run"),
                         "seconds": 30.0}}


def _record(cid: str, verdict: str, parts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return VerdictRecord(id=cid, title=cid, area="Compatibility", measured=0.0,
                         unit="violations", limit=0, comparator="<=", verdict=Verdict(verdict),
                         evidence={}, source="test", parts=parts or []).to_json()


def _summary(run_id: str, records: list[dict[str, Any]], out_of_scope: list[str]) -> dict[str, Any]:
    return {"schema": "releasegate.summary/1",
            "run": {"id": run_id, "started_at": "2026-11-01T10:00:00+00:00",
                    "finished_at": "2026-11-01T10:05:00+00:00", "duration_s": 300,
                    "suites": ["compat"], "partial": True, "profile_name": "rento",
                    "environment": {}},
            "release": {"verdict": "scope_passed", "headline": run_id},
            "criteria": records, "excluded": [], "out_of_scope": out_of_scope,
            "stray": [], "harness_errors": [], "error": None}


def _job(cell: str, verdict: str, cells: list[str]) -> dict[str, Any]:
    parts = [_part(c, verdict if c == cell else "not_run") for c in cells]
    verdicts = {p["verdict"] for p in parts}
    worst = next(v for v in ("fail", "not_run", "pass") if v in verdicts)
    return _summary(f"job-{cell}", [_record("COMPAT-PYTHON", worst, parts)],
                    ["FUNC-HEALTH"])


CELLS = ["py3.9-pg13", "py3.11-pg15"]


def _verdict(summary: dict[str, Any], cid: str) -> str:
    return next(str(r["verdict"]) for r in summary["criteria"] if r["id"] == cid)


def test_cells_from_separate_jobs_join_into_one_pass() -> None:
    merged = merge_summaries([(Path("a"), _job("py3.9-pg13", "pass", CELLS)),
                              (Path("b"), _job("py3.11-pg15", "pass", CELLS))])
    assert _verdict(merged, "COMPAT-PYTHON") == "pass"
    assert {p["scope"] for p in merged["criteria"][0]["parts"]} == set(CELLS)
    assert merged["out_of_scope"] == ["FUNC-HEALTH"] and merged["run"]["partial"]
    assert merged["release"]["verdict"] == "scope_passed"


def test_a_cell_no_job_ran_stays_not_run() -> None:
    merged = merge_summaries([(Path("a"), _job("py3.9-pg13", "pass", CELLS)),
                              (Path("b"), _job("py3.9-pg13", "pass", CELLS))])
    assert _verdict(merged, "COMPAT-PYTHON") == "not_run"
    assert merged["release"]["exit_code"] == 3


def test_disagreeing_verdicts_take_the_worst() -> None:
    merged = merge_summaries([(Path("a"), _job("py3.9-pg13", "fail", CELLS)),
                              (Path("b"), _job("py3.11-pg15", "pass", CELLS))])
    assert _verdict(merged, "COMPAT-PYTHON") == "fail"
    assert merged["release"]["exit_code"] == 2
    twice = merge_summaries([
        (Path("a"), _summary("a", [_record("FUNC-HEALTH", "pass")], [])),
        (Path("b"), _summary("b", [_record("FUNC-HEALTH", "error")], []))])
    assert _verdict(twice, "FUNC-HEALTH") == "error"


def test_a_criterion_judged_only_somewhere_is_judged_there() -> None:
    merged = merge_summaries([
        (Path("a"), _summary("a", [_record("FUNC-HEALTH", "pass")], ["COMPAT-PYTHON"])),
        (Path("b"), _job("py3.9-pg13", "pass", ["py3.9-pg13"]))])
    assert _verdict(merged, "FUNC-HEALTH") == "pass"
    assert _verdict(merged, "COMPAT-PYTHON") == "pass"
    assert merged["out_of_scope"] == []
    assert not merged["run"]["partial"]


def test_a_broken_or_missing_input_is_a_harness_error(tmp_path: Path) -> None:
    with pytest.raises(HarnessError):
        load_inputs([tmp_path / "nowhere"])
    (tmp_path / "summary.json").write_text(json.dumps({"error": {"message": "no engine"}}))
    with pytest.raises(HarnessError, match="no engine"):
        load_inputs([tmp_path])


def test_the_command_writes_one_report_with_the_matrix(tmp_path: Path) -> None:
    folders = []
    for cell, verdict in (("py3.9-pg13", "pass"), ("py3.11-pg15", "pass")):
        folder = tmp_path / cell
        (folder / "run" / "measurements" / "attachments").mkdir(parents=True)
        (folder / "run" / "measurements" / "attachments" / f"x-{cell}.log").write_text(cell)
        (folder / "summary.json").write_text(json.dumps(_job(cell, verdict, CELLS)))
        folders.append(str(folder))
    out = tmp_path / "merged"
    code = main(["report", "--no-html", "--reports-dir", str(out), "--merge", *folders])
    assert code == 0
    text = (out / "summary.md").read_text()
    assert "## Compatibility matrix" in text and "✅ passed, 30 s" in text
    assert (out / "run" / "measurements" / "attachments" / "x-py3.9-pg13.log").is_file()
