"""The Allure 3 single-file HTML and quality gate, with the toolchain pinned in reports/.

These run the real Allure from reports/node_modules when it is installed (a symlink, so no
network); otherwise generate_html runs `npm ci` itself, which needs the npm registry. Without
Node.js they are skipped: HTML is optional, and the tests of its absence below still run.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from releasegate.report import html as html_module
from releasegate.report.html import generate_html, run_quality_gate
from releasegate.report.sample import record, sample_summary
from releasegate.report.write import write_reports

REPO_REPORTS = Path(__file__).resolve().parents[2] / "reports"
TOOLCHAIN = ("package.json", "package-lock.json", "allurerc.mjs")
needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="Node.js/npm not installed"
)


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    for name in TOOLCHAIN:
        shutil.copy(REPO_REPORTS / name, tmp_path / name)
    installed = REPO_REPORTS / "node_modules" / "allure" / "package.json"
    if installed.is_file():
        (tmp_path / "node_modules").symlink_to(REPO_REPORTS / "node_modules")
    return tmp_path


def _embedded_text(index: Path) -> str:
    """The single-file report embeds its data files base64-encoded; decode them all."""
    html = index.read_text(encoding="utf-8")
    blobs = re.findall(r'"data/[^"]+\.json","([A-Za-z0-9+/=]+)"', html)
    return "\n".join(base64.b64decode(b).decode("utf-8", errors="replace") for b in blobs)


def test_toolchain_is_pinned() -> None:
    package = json.loads((REPO_REPORTS / "package.json").read_text())
    lock = json.loads((REPO_REPORTS / "package-lock.json").read_text())
    pinned = package["dependencies"]["allure"]
    assert re.fullmatch(r"3\.\d+\.\d+", pinned)
    assert lock["packages"]["node_modules/allure"]["version"] == pinned
    config = (REPO_REPORTS / "allurerc.mjs").read_text()
    assert "singleFile: true" in config and "maxFailures: 0" in config
    assert "minTestsCount: 1" in config


@needs_node
def test_single_file_html_contains_every_criterion(reports: Path) -> None:
    written = write_reports(sample_summary(), reports, previous=None, html=True,
                            progress=lambda _: None, env={})
    index = written["html"]
    assert index == reports / "html" / "index.html"
    assert not (reports / "html" / "data").exists()  # one file, nothing beside it to lose
    embedded = _embedded_text(index)
    for criterion in sample_summary()["criteria"]:
        assert criterion["id"] in embedded
    assert "Threshold breach" in embedded  # categories from allurerc.mjs were applied
    assert ("<title> releasegate · rento · NOT READY — 6 of 45 documented criteria assessed; "
            "38 not run") in index.read_text()
    assert "[html/index.html](html/index.html)" in (reports / "summary.md").read_text()


@needs_node
def test_quality_gate_fails_on_blocking_problems_and_passes_when_ready(reports: Path) -> None:
    write_reports(sample_summary(), reports, previous=None, html=False,
                  progress=lambda _: None, env={})
    ok, output = run_quality_gate(reports, progress=lambda _: None)
    assert not ok
    assert "blocking/maxFailures" in output and "blocking/maxNotRun" in output

    ready = sample_summary()
    ready["criteria"] = [
        record("FUNC-HEALTH", "pass", 0),
        # Non-blocking failures do not hold a release back; neither does the gate.
        record("SEC-SAST", "fail", 1, severity="normal", blocking=False),
    ]
    ready["release"] = {"verdict": "ready", "exit_code": 0, "blockers": [],
                        "warnings": ["SEC-SAST"], "reason": ""}
    write_reports(ready, reports, previous=None, html=False, progress=lambda _: None, env={})
    ok, output = run_quality_gate(reports, progress=lambda _: None)
    assert ok, output


@needs_node
def test_quality_gate_rejects_an_empty_run(reports: Path) -> None:
    empty = sample_summary()
    empty["criteria"] = []
    write_reports(empty, reports, previous=None, html=False, progress=lambda _: None, env={})
    ok, output = run_quality_gate(reports, progress=lambda _: None)
    assert not ok and "run/minTestsCount" in output


def test_missing_node_returns_none_with_a_message(reports: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    (reports / "allure-results").mkdir()
    (reports / "html").mkdir()
    (reports / "html" / "index.html").write_text("stale")
    messages: list[str] = []
    assert generate_html(reports, messages.append) is None
    assert messages and "Node.js and npm are not installed" in messages[0]
    assert not (reports / "html").exists()
    ok, output = run_quality_gate(reports, messages.append)
    assert not ok and "not evaluated" in output


def test_failing_generation_is_reported_not_raised(reports: Path, monkeypatch: Any) -> None:
    (reports / "allure-results").mkdir()
    monkeypatch.setattr(html_module, "_toolchain", lambda *_: ("node", reports / "cli.js"))

    def fake_run(*_: Any, **__: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 1, "", "Error: boom")

    monkeypatch.setattr(subprocess, "run", fake_run)
    messages: list[str] = []
    assert generate_html(reports, messages.append) is None
    assert "allure generate failed" in messages[-1] and "boom" in messages[-1]
