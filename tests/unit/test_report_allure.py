"""Allure results: every verdict lands on the right status and category, evidence travels along."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from releasegate.report.allure_context import CATEGORIES, environment_properties, executor_info
from releasegate.report.allure_results import write_allure_results
from releasegate.report.sample import record, sample_summary
from releasegate.report.summary import error_summary

EXPECTED = {
    # verdict: (Allure status, category, message prefix)
    "pass": ("passed", None, None),
    "waived": ("passed", None, "waived: "),
    "fail": ("failed", "Threshold breach", "threshold breach: "),
    "error": ("broken", "Harness error", "harness error: "),
    "insufficient": ("broken", "Insufficient evidence", "insufficient evidence: "),
    "not_run": ("skipped", "Environment problem", "not run: "),
}


def _results(directory: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in directory.glob("*-result.json"):
        data = json.loads(path.read_text())
        feature = next(lb["value"] for lb in data["labels"] if lb["name"] == "feature")
        out[feature] = data
    return out


def _category(status: str, message: str, *, java: bool) -> str | None:
    """First matching category, as Allure 3 (RegExp.test) or Allure 2 (Matcher.matches) would."""
    for category in CATEGORIES:
        if status not in category["matchedStatuses"]:
            continue
        regex = category.get("messageRegex")
        if regex is None:
            return str(category["name"])
        matched = re.fullmatch(regex, message) if java else re.search(regex, message)
        if matched:
            return str(category["name"])
    return None


def _one_of_each() -> dict[str, Any]:
    summary = sample_summary()
    summary["criteria"] = [
        record("FUNC-HEALTH", "pass", 0),
        record("PERF-CONCURRENCY", "waived", 2000, limit=2000,
               waiver={"reason": "small runner", "expires": "2026-12-31", "approved_by": "qa"}),
        record("FUNC-E2E-FLOWS", "fail", 2, reasons=["[contract] bill total 100 != 120",
                                                     "mentions harness error in passing"]),
        record("SEC-DEPS", "error", None, reasons=["advisory database unreachable"]),
        record("REL-SUCCESS-RATE", "insufficient", 99.999, samples=10,
               reasons=["10 observation(s), at least 30000 needed",
                        "the load tool printed 'harness error' once"]),
        record("SEC-API-FUZZ", "not_run", None, reasons=["no suite evaluated this criterion"]),
    ]
    return summary


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    out = write_allure_results(_one_of_each(), tmp_path / "allure-results",
                               measurements_dir=tmp_path / "m", env={})
    return out, _results(out)


def test_every_verdict_maps_to_status_and_category(written: Any) -> None:
    _, results = written
    by_verdict = {
        "pass": "FUNC-HEALTH", "waived": "PERF-CONCURRENCY", "fail": "FUNC-E2E-FLOWS",
        "error": "SEC-DEPS", "insufficient": "REL-SUCCESS-RATE", "not_run": "SEC-API-FUZZ",
    }
    for verdict, cid in by_verdict.items():
        status, category, prefix = EXPECTED[verdict]
        result = results[cid]
        assert result["status"] == status, verdict
        message = result.get("statusDetails", {}).get("message", "")
        if prefix:
            assert message.startswith(prefix), (verdict, message)
        else:
            assert not message
        if category:
            assert _category(status, message, java=False) == category, verdict
            assert _category(status, message, java=True) == category, verdict


def test_identity_is_stable_across_runs_and_parameters_do_not_break_history(
    tmp_path: Path,
) -> None:
    first = _results(write_allure_results(_one_of_each(), tmp_path / "a",
                                          measurements_dir=tmp_path, env={}))
    changed = _one_of_each()
    changed["criteria"][0]["measured"] = 3
    changed["criteria"][0]["verdict"] = "fail"
    second = _results(write_allure_results(changed, tmp_path / "b",
                                           measurements_dir=tmp_path, env={}))
    for cid, result in first.items():
        again = second[cid]
        assert result["uuid"] != again["uuid"]
        for key in ("historyId", "testCaseId", "fullName", "name"):
            assert result[key] == again[key], key
        # Allure 3 hashes non-excluded parameters into its history id.
        assert all(p.get("excluded") is True for p in result.get("parameters", []))


def test_labels_parameters_and_description(written: Any) -> None:
    _, results = written
    result = results["REL-SUCCESS-RATE"]
    labels = {(lb["name"], lb["value"]) for lb in result["labels"]}
    assert {("epic", "Reliability"), ("feature", "REL-SUCCESS-RATE"),
            ("story", "Request success rate"), ("severity", "blocker"), ("tag", "blocking"),
            ("suite", "Reliability"), ("parentSuite", "rento")} <= labels
    assert result["name"] == "REL-SUCCESS-RATE — Request success rate"
    params = {p["name"]: p["value"] for p in result["parameters"]}
    assert params == {"measured": "99.999 %", "limit": "> 99.99 %",
                      "documented limit": "> 99.99 %", "samples": "10 (min 30000)"}
    waived = results["PERF-CONCURRENCY"]
    assert ("tag", "waived") in {(lb["name"], lb["value"]) for lb in waived["labels"]}
    assert "small runner" in waived["description"]


def test_parts_become_steps_and_checks_substeps(tmp_path: Path) -> None:
    out = write_allure_results(sample_summary(), tmp_path / "r", measurements_dir=tmp_path,
                               env={})
    health = _results(out)["FUNC-HEALTH"]
    assert [s["name"] for s in health["steps"]] == ["db up → PASS", "db down → FAIL"]
    assert [s["status"] for s in health["steps"]] == ["passed", "failed"]
    assert health["steps"][1]["steps"][0] == {"name": "status 503: got 200", "status": "failed"}
    assert "| db down | ❌ FAIL |" in health["description"]
    assert "#### db down\n\n- ❌ status 503: got 200" in health["description"]


def test_attachments_copied_missing_skipped_and_record_attached(tmp_path: Path) -> None:
    measurements = tmp_path / "run" / "measurements"
    (measurements / "attachments").mkdir(parents=True)
    (measurements / "attachments" / "1a2b3c4d-app.log").write_text("line with s3cr3t\n")
    (measurements / "attachments" / "5e6f7a8b-plot.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (tmp_path / "outside.txt").write_text("not evidence")
    summary = sample_summary()
    summary["criteria"] = [record(
        "FUNC-HEALTH", "fail", 1,
        attachments=["attachments/1a2b3c4d-app.log", "attachments/5e6f7a8b-plot.png",
                     "attachments/gone.log", "../../outside.txt"],
    )]
    out = write_allure_results(summary, tmp_path / "r", measurements_dir=measurements,
                               redact=lambda s: s.replace("s3cr3t", "[redacted]"), env={})
    result = _results(out)["FUNC-HEALTH"]
    attachments = {a["name"]: a for a in result["attachments"]}
    assert set(attachments) == {"app.log", "plot.png", "measurement.json"}
    assert attachments["app.log"]["type"] == "text/plain"
    assert attachments["plot.png"]["type"] == "image/png"
    log = (out / attachments["app.log"]["source"]).read_text()
    assert log == "line with [redacted]\n"
    png = (out / attachments["plot.png"]["source"]).read_bytes()
    assert png == b"\x89PNG\r\n\x1a\n\x00\xff"
    recorded = json.loads((out / attachments["measurement.json"]["source"]).read_text())
    assert recorded["id"] == "FUNC-HEALTH" and recorded["verdict"] == "fail"
    assert "gone.log" in result["description"] and "outside.txt" in result["description"]


def test_large_text_attachment_keeps_its_tail(tmp_path: Path, monkeypatch: Any) -> None:
    from releasegate.report import allure_files

    monkeypatch.setattr(allure_files, "MAX_TEXT_ATTACHMENT", 100)
    measurements = tmp_path / "m"
    (measurements / "a").mkdir(parents=True)
    (measurements / "a" / "big.log").write_text("x" * 500 + "\nTHE END\n")
    summary = sample_summary()
    summary["criteria"] = [record("FUNC-HEALTH", "fail", 1, attachments=["a/big.log"])]
    out = write_allure_results(summary, tmp_path / "r", measurements_dir=measurements, env={})
    log = next(p for p in out.iterdir() if p.suffix == ".log").read_text()
    assert log.startswith("[releasegate: first") and log.endswith("THE END\n")


def test_run_level_error_adds_a_broken_run_aborted_result(tmp_path: Path) -> None:
    summary = error_summary(message="docker daemon not reachable", category="environment problem",
                            hint="start dockerd", criteria=["FUNC-HEALTH", "SEC-NONROOT"])
    out = write_allure_results(summary, tmp_path / "r", measurements_dir=tmp_path, env={})
    results = _results(out)
    aborted = results["RUN"]
    assert aborted["name"] == "Run aborted"
    assert aborted["status"] == "broken"
    message = aborted["statusDetails"]["message"]
    assert message == "environment problem: docker daemon not reachable"
    assert _category("broken", message, java=False) == "Environment problem"
    assert {results[c]["status"] for c in ("FUNC-HEALTH", "SEC-NONROOT")} == {"skipped"}
    assert not any(r["status"] == "passed" for r in results.values())


def test_results_directory_is_fresh(tmp_path: Path) -> None:
    target = tmp_path / "allure-results"
    target.mkdir()
    (target / "stale-result.json").write_text('{"status": "passed"}')
    write_allure_results(_one_of_each(), target, measurements_dir=tmp_path, env={})
    assert not (target / "stale-result.json").exists()
    assert {"categories.json", "environment.properties", "executor.json"} <= {
        p.name for p in target.iterdir()}


def test_categories_file_lists_the_documented_categories(written: Any) -> None:
    out, _ = written
    categories = json.loads((out / "categories.json").read_text())
    names = [c["name"] for c in categories]
    assert names[:4] == ["Threshold breach", "Harness error", "Insufficient evidence",
                         "Environment problem"]
    assert categories[0]["matchedStatuses"] == ["failed"]
    assert set(categories[3]["matchedStatuses"]) == {"broken", "skipped"}


def test_environment_properties_are_escaped_and_complete() -> None:
    summary = sample_summary()
    summary["run"]["environment"]["odd key"] = "a=b\nc ✓"
    text = environment_properties(summary)
    assert text.isascii()
    lines = dict(line.split("=", 1) for line in text.splitlines() if not line.startswith("odd"))
    assert lines["profile"] == "profiles/rento.toml"
    assert lines["provider"] == "containers"
    assert lines["suites"] == "deploy, e2e, performance, security, reliability"
    assert lines["postgres"] == "15.14"
    assert "odd\\ key=a=b\\nc \\u2713" in text


@pytest.mark.parametrize(("env", "expected"), [
    ({}, {"name": "releasegate", "type": "local"}),
    ({"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com",
      "GITHUB_REPOSITORY": "acme/rento", "GITHUB_RUN_ID": "99", "GITHUB_RUN_NUMBER": "7",
      "GITHUB_WORKFLOW": "release"},
     {"type": "github", "buildName": "release #7", "buildOrder": 7,
      "buildUrl": "https://github.com/acme/rento/actions/runs/99"}),
    ({"GITLAB_CI": "true", "CI_PROJECT_PATH": "acme/rento", "CI_PIPELINE_IID": "12",
      "CI_JOB_NAME": "gate", "CI_JOB_URL": "https://gitlab.example/acme/rento/-/jobs/5"},
     {"type": "gitlab", "buildName": "acme/rento #12 gate", "buildOrder": 12,
      "buildUrl": "https://gitlab.example/acme/rento/-/jobs/5"}),
])
def test_executor_comes_from_ci_variables(env: dict[str, str], expected: dict[str, Any]) -> None:
    info = executor_info(sample_summary(), env)
    assert expected.items() <= info.items()
    assert info["reportName"] == "releasegate — rento — run a1b2c3d4"
