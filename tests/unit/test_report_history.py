"""History: the previous summary is kept (20 at most) and compared against."""

from __future__ import annotations

import json
from pathlib import Path

from releasegate.report.history import KEEP, diff, history_files, rotate_previous
from releasegate.report.sample import record, sample_previous, sample_summary


def _write(reports: Path, run_id: str, started_at: str) -> None:
    summary = sample_summary()
    summary["run"].update({"id": run_id, "started_at": started_at})
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "summary.json").write_text(json.dumps(summary))


def test_nothing_to_rotate(tmp_path: Path) -> None:
    assert rotate_previous(tmp_path) is None
    assert not (tmp_path / "history").exists()


def test_rotation_moves_and_returns_the_previous_summary(tmp_path: Path) -> None:
    _write(tmp_path, "a1b2c3d4", "2026-11-21T10:15:03+01:00")
    previous = rotate_previous(tmp_path)
    assert previous is not None and previous["run"]["id"] == "a1b2c3d4"
    assert not (tmp_path / "summary.json").exists()
    assert [p.name for p in history_files(tmp_path / "history")] == [
        "20261121T091503Z-a1b2c3d4.json"]


def test_rotation_keeps_the_newest_twenty(tmp_path: Path) -> None:
    for i in range(KEEP + 5):
        _write(tmp_path, f"run{i:02d}", f"2026-11-{1 + i // 24:02d}T{i % 24:02d}:00:00Z")
        rotate_previous(tmp_path)
    kept = history_files(tmp_path / "history")
    assert len(kept) == KEEP
    assert kept[0].name.endswith("-run05.json") and kept[-1].name.endswith("-run24.json")


def test_other_files_in_history_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "history").mkdir()
    allure_history = tmp_path / "history" / "allure-history.jsonl"
    allure_history.write_text("{}\n")
    for i in range(KEEP + 1):
        _write(tmp_path, f"r{i:02d}", f"2026-11-20T{i:02d}:00:00Z")
        rotate_previous(tmp_path)
    assert allure_history.exists()


def test_unreadable_previous_is_moved_aside_but_not_compared(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text("{ truncated")
    assert rotate_previous(tmp_path) is None
    assert not (tmp_path / "summary.json").exists()
    assert history_files(tmp_path / "history")[0].name.endswith("-unreadable.json")


def test_same_run_rotated_twice_keeps_both(tmp_path: Path) -> None:
    for _ in range(2):
        _write(tmp_path, "same", "2026-11-21T10:00:00Z")
        rotate_previous(tmp_path)
    assert len(history_files(tmp_path / "history")) == 2


def test_diff_reports_verdict_changes_deltas_and_direction() -> None:
    result = diff(sample_previous(), sample_summary())
    assert result is not None
    assert result.previous_run_id == "0f0e0d0c"
    assert (result.release_before, result.release_after) == ("error", "not_ready")
    assert [(c.id, c.before, c.after) for c in result.verdict_changes] == [
        ("FUNC-HEALTH", "pass", "fail")]
    api = result.changes["PERF-API-P95"]
    assert api.delta is not None and round(api.delta, 2) == 22.24
    assert api.direction == "worse"


def test_diff_new_and_removed_criteria_and_higher_is_better() -> None:
    previous = sample_summary()
    previous["criteria"] = [record("REL-AVAILABILITY", "pass", 99.5),
                            record("SEC-NONROOT", "pass", 0)]
    current = sample_summary()
    current["criteria"] = [record("REL-AVAILABILITY", "pass", 99.95),
                           record("FUNC-HEALTH", "pass", 0)]
    result = diff(previous, current)
    assert result is not None
    assert result.changes["REL-AVAILABILITY"].direction == "better"
    assert (result.changes["FUNC-HEALTH"].before, result.changes["FUNC-HEALTH"].after) == (
        None, "pass")
    assert (result.changes["SEC-NONROOT"].before, result.changes["SEC-NONROOT"].after) == (
        "pass", None)


def test_no_previous_no_diff() -> None:
    assert diff(None, sample_summary()) is None
