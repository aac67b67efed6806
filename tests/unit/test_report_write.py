"""write_reports: every report at once, redacted, and never a stale or false pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from releasegate.errors import ConfigError, EnvironmentProblem
from releasegate.report import write as write_module
from releasegate.report.sample import sample_previous, sample_summary
from releasegate.report.write import write_error_summary, write_reports

SECRET = "hunter2-d0nt-l3ak"


def _redact(text: str) -> str:
    return text.replace(SECRET, "[REDACTED]")


def _all_text(reports: Path) -> dict[Path, str]:
    """Every report file written (measurement sources under run/ are inputs, not reports)."""
    return {
        p: p.read_text(encoding="utf-8", errors="replace")
        for p in reports.rglob("*")
        if p.is_file() and "run" not in p.relative_to(reports).parts
    }


def test_writes_every_report(tmp_path: Path) -> None:
    written = write_reports(sample_summary(), tmp_path, previous=sample_previous(), html=False,
                            progress=lambda _: None, env={})
    assert set(written) == {"summary.json", "summary.md", "junit.xml", "allure-results",
                            "security.sarif"}
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data == sample_summary()
    assert (tmp_path / "summary.json").read_text().startswith('{\n  "schema"')
    md = (tmp_path / "summary.md").read_text()
    assert "FUNC-HEALTH pass → fail" in md
    assert "- **Interactive report:** not requested for this run" in md
    assert "[summary.json](summary.json)" in md
    # One result per judged criterion, and one per excluded criterion.
    assert len(list((tmp_path / "allure-results").glob("*-result.json"))) == 9


def test_redaction_reaches_every_file_and_attachment(tmp_path: Path) -> None:
    measurements = tmp_path / "run" / "measurements" / "attachments"
    measurements.mkdir(parents=True)
    (measurements / "1a2b3c4d-app.log").write_text(f"connecting with password={SECRET}\n")
    summary = sample_summary()
    summary["run"]["environment"]["database_url"] = f"postgresql://app:{SECRET}@db/rento"
    summary["criteria"][1]["reasons"].append(f"log line leaked {SECRET}")
    summary["criteria"][1]["evidence"] = {SECRET: "as a key"}
    summary["release"]["reason"] = f"because {SECRET}"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": f"acme/{SECRET}",
           "GITHUB_RUN_ID": "1"}
    write_reports(summary, tmp_path, previous=sample_previous(), html=False,
                  progress=lambda _: None, redact=_redact, env=env)
    files = _all_text(tmp_path)
    logs = [text for path, text in files.items() if path.suffix == ".log"]
    assert logs == ["connecting with password=[REDACTED]\n"]
    leaks = [path for path, text in files.items() if SECRET in text]
    assert leaks == []
    assert "[REDACTED]" in (tmp_path / "summary.md").read_text()


def test_stale_reports_are_removed(tmp_path: Path) -> None:
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "index.html").write_text("old green report")
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "old-result.json").write_text('{"status": "passed"}')
    write_reports(sample_summary(), tmp_path, previous=None, html=False,
                  progress=lambda _: None, env={})
    assert not (tmp_path / "html").exists()
    assert not (tmp_path / "allure-results" / "old-result.json").exists()


def test_allure_failure_does_not_stop_the_other_reports(tmp_path: Path,
                                                        monkeypatch: Any) -> None:
    def broken(*_: Any, **__: Any) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(write_module, "write_allure_results", broken)
    messages: list[str] = []
    written = write_reports(sample_summary(), tmp_path, previous=None, html=True,
                            progress=messages.append, env={})
    assert "allure-results" not in written and "html" not in written
    assert "Allure results not written: disk full" in messages
    assert "- **Allure results:** not written: disk full" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize("error", [
    EnvironmentProblem("docker engine not reachable", hint="start dockerd"),
    ConfigError("profiles/x.toml: unknown key 'thresholds.FUNC-HELTH'", hint="FUNC-HEALTH?"),
    RuntimeError("unexpected"),
    {"message": "stopped", "category": "harness error"},
])
def test_error_summary_never_claims_a_pass(tmp_path: Path, error: Any) -> None:
    (tmp_path / "summary.md").write_text("# ✅ READY FOR RELEASE")
    written = write_error_summary(
        tmp_path, error, run={"id": "deadbeef", "profile_name": "rento"},
        criteria=["FUNC-HEALTH", "SEC-NONROOT", "PERF-API-P95"], progress=lambda _: None, env={},
    )
    summary = json.loads(written["summary.json"].read_text())
    assert summary["release"]["verdict"] == "error"
    assert summary["release"]["exit_code"] == 1
    assert {c["verdict"] for c in summary["criteria"]} == {"not_run"}
    assert summary["release"]["blockers"] == ["FUNC-HEALTH", "SEC-NONROOT", "PERF-API-P95"]
    assert summary["error"]["category"] in ("environment problem", "configuration error",
                                            "harness error")
    for path, text in _all_text(tmp_path).items():
        assert "pass" not in text.lower(), path
    assert (tmp_path / "summary.md").read_text().startswith("# 💥 HARNESS ERROR")


def test_error_summary_without_known_criteria(tmp_path: Path) -> None:
    written = write_error_summary(tmp_path, ConfigError("profile not found"),
                                  progress=lambda _: None, env={})
    md = written["summary.md"].read_text()
    assert "**configuration error:** profile not found" in md
    assert "No criterion was judged" in md
    results = [json.loads(p.read_text())
               for p in (tmp_path / "allure-results").glob("*-result.json")]
    assert [(r["name"], r["status"]) for r in results] == [("Run aborted", "broken")]


def test_plots_are_linked_from_the_summary(tmp_path: Path) -> None:
    summary = sample_summary()
    summary["criteria"][0]["attachments"] = ["attachments/1a2b3c4d-load-timeline.png",
                                             "attachments/9f8e7d6c-app.log"]
    write_reports(summary, tmp_path, previous=None, html=False, progress=lambda _: None)
    text = (tmp_path / "summary.md").read_text()
    assert ("(run/measurements/attachments/1a2b3c4d-load-timeline.png)" in text)
    assert "9f8e7d6c-app.log)" not in text
