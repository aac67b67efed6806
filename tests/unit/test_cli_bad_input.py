"""Bad input on the command line: one line saying what is wrong, exit 1, no report claiming
anything — never argparse's exit 2 (which a CI job would read as "a criterion failed") and never
a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "releasegate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_unknown_suite_is_a_usage_error_exit_1() -> None:
    done = _cli("run", "--suite", "bogus")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("releasegate: usage error: argument --suite: invalid choice")


def test_reports_dir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "reports"
    target.write_text("not a folder")
    done = _cli("run", "--reports-dir", str(target))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip() == (f"releasegate: configuration error: --reports-dir {target} is "
                                   "a file, not a folder — pass a folder (it is created if "
                                   "missing)")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_external_target_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    reports = tmp_path / "reports"
    done = _cli("run", "--external", url, "--reports-dir", str(reports), "--no-html",
                "--set", "stack.health_timeout_s=2")
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert output.count("does not answer") == 1, output
    assert f"the external target {url} does not answer" in output
    assert "never became healthy" not in output
    summary = (reports / "summary.json").read_text()
    assert '"exit_code": 1' in summary and '"verdict": "pass"' not in summary


def test_a_baseline_that_is_not_a_summary(tmp_path: Path) -> None:
    baseline = tmp_path / "summary.json"
    baseline.write_text("{}")
    done = _cli("run", "--baseline", str(baseline), "--reports-dir", str(tmp_path / "r"))
    assert done.returncode == 1
    assert f"--baseline {baseline}: not a releasegate summary" in done.stderr
