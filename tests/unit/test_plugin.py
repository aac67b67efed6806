"""The plugin fails closed: a skipped, crashed or silent test never leaves a pass behind.

Each case is a real pytest run in a subprocess against a real local HTTP server, through the
external provider, so the whole path — collection, evidence, judging, reports, exit code — runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from releasegate.criteria import catalog

PROFILE = """
[profile]
name = "plugin-test"
[stack]
provider = "external"
[external]
base_url = "{url}"
[services.app]
kind = "app"
image = "unused:1"
port = 8000
health_path = "/health"
[thresholds."FUNC-HEALTH"]
"""

TESTS = '''
import pytest
from releasegate.measure.recorder import CheckList

pytestmark = pytest.mark.e2e

@pytest.mark.criterion("FUNC-HEALTH")
def test_measures(record, stack):
    checks = CheckList()
    checks.add("answers", True)
    record.checks("FUNC-HEALTH", checks, source="unit")

@pytest.mark.criterion("FUNC-E2E-FLOWS")
def test_skips(stack):
    pytest.skip("nothing to drive here")

@pytest.mark.criterion("FUNC-ERROR-HANDLING")
def test_crashes(stack):
    raise RuntimeError("boom")
'''


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _run(pytester: pytest.Pytester, url: str, tests: str, *args: str,
         profile: str = PROFILE) -> tuple[int, dict[str, Any]]:
    pytester.makefile(".toml", profile=profile.format(url=url))
    pytester.makepyfile(test_suite=tests)
    reports = pytester.path / "reports"
    # The test folder stands in for the suites: collecting all of it is a full run.
    result = pytester.runpytest_subprocess(
        "-p", "releasegate.pytest_plugin", "-p", "no:cacheprovider", "--profile",
        str(pytester.path / "profile.toml"), "--reports-dir", str(reports), "--no-html",
        "--suites-root", str(pytester.path), "-W", "ignore::pytest.PytestUnknownMarkWarning",
        *args)
    summary = json.loads((reports / "summary.json").read_text())
    return int(result.ret), summary


def everything_but(*keep: str) -> str:
    """Profile lines excluding every documented criterion except ``keep``."""
    return "".join(f'[exclude."{c.id}"]\nreason = "not part of this unit test"\n'
                   for c in catalog.CRITERIA if c.id not in keep)


def verdicts(summary: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in summary["criteria"]}


def test_skip_crash_and_silence_never_pass(pytester: pytest.Pytester, target: str) -> None:
    code, summary = _run(pytester, target, TESTS)
    judged = verdicts(summary)
    assert len(judged) == 45
    assert {k: judged[k] for k in ("FUNC-HEALTH", "FUNC-E2E-FLOWS", "FUNC-ERROR-HANDLING")} == {
        "FUNC-HEALTH": "pass", "FUNC-E2E-FLOWS": "insufficient", "FUNC-ERROR-HANDLING": "error"}
    assert {v for k, v in judged.items() if k not in (
        "FUNC-HEALTH", "FUNC-E2E-FLOWS", "FUNC-ERROR-HANDLING")} == {"not_run"}
    assert code == 1 and summary["release"]["verdict"] == "error"
    reasons = {r["id"]: r["reasons"] for r in summary["criteria"]}
    assert "nothing to drive here" in reasons["FUNC-E2E-FLOWS"][0]
    assert "boom" in reasons["FUNC-ERROR-HANDLING"][0]
    assert "no suite evaluated" in reasons["SEC-SAST"][0]
    assert summary["coverage"] == {"documented": 45, "required": 45, "excluded": 0,
                                   "in_scope": 45, "assessed": 3, "not_run": 42}
    assert summary["release"]["headline"].startswith(
        "HARNESS ERROR — 3 of 45 documented criteria assessed; 42 not run")


def test_ready_only_when_every_required_criterion_is_assessed(
    pytester: pytest.Pytester, target: str
) -> None:
    tests = TESTS.split("@pytest.mark.criterion(\"FUNC-E2E-FLOWS\")")[0]
    code, summary = _run(pytester, target, tests)
    assert code == 3 and summary["release"]["verdict"] == "insufficient"
    assert "1 of 45 documented criteria assessed; 44 not run" in summary["release"]["headline"]
    code, summary = _run(pytester, target, tests,
                         profile=PROFILE + everything_but("FUNC-HEALTH"))
    assert code == 0 and summary["release"]["verdict"] == "ready"
    assert summary["release"]["headline"] == (
        "READY — 1 of 45 documented criteria assessed; 44 excluded")
    assert len(summary["excluded"]) == 44
    assert {e["reason"] for e in summary["excluded"]} == {"not part of this unit test"}
    junit = (pytester.path / "reports" / "junit.xml").read_text()
    assert junit.count("excluded by the profile: not part of this unit test") == 44


def test_a_breach_exits_2(pytester: pytest.Pytester, target: str) -> None:
    tests = TESTS.replace('checks.add("answers", True)', 'checks.add("answers", False, "no")')
    code, summary = _run(pytester, target, tests)
    assert verdicts(summary)["FUNC-HEALTH"] == "fail"
    assert code == 2 and summary["release"]["verdict"] == "not_ready"


def test_a_test_that_records_nothing_is_an_error(pytester: pytest.Pytester, target: str) -> None:
    tests = TESTS.replace('    record.checks("FUNC-HEALTH", checks, source="unit")\n', "")
    code, summary = _run(pytester, target, tests, "-k", "measures")
    assert code == 1
    assert verdicts(summary)["FUNC-HEALTH"] == "error"
    assert "without recording" in summary["criteria"][0]["reasons"][0]


def test_recording_a_pass_and_then_raising_is_an_error(
    pytester: pytest.Pytester, target: str
) -> None:
    tests = TESTS.replace('record.checks("FUNC-HEALTH", checks, source="unit")',
                          'record.checks("FUNC-HEALTH", checks, source="unit")\n'
                          '    raise RuntimeError("after the pass")')
    code, summary = _run(pytester, target, tests, "-k", "measures")
    record = next(r for r in summary["criteria"] if r["id"] == "FUNC-HEALTH")
    assert record["verdict"] == "error"
    assert any("after the pass" in r for r in record["reasons"])
    assert code == 1


def test_a_failing_fixture_teardown_is_an_error(pytester: pytest.Pytester, target: str) -> None:
    measures = '@pytest.mark.criterion("FUNC-HEALTH")\ndef test_measures(record, stack):'
    tests = TESTS.replace(measures,
                          '@pytest.fixture\ndef restart_db():\n    yield\n'
                          '    raise RuntimeError("could not restart the database")\n\n'
                          '@pytest.mark.criterion("FUNC-HEALTH")\n'
                          'def test_measures(record, stack, restart_db):')
    code, summary = _run(pytester, target, tests, "-k", "measures")
    record = next(r for r in summary["criteria"] if r["id"] == "FUNC-HEALTH")
    assert record["verdict"] == "error"
    assert any("teardown failed" in r and "restart the database" in r for r in record["reasons"])
    assert code == 1


def test_a_failing_test_without_a_criterion_is_a_harness_error(
    pytester: pytest.Pytester, target: str
) -> None:
    tests = TESTS + "\ndef test_unmarked():\n    assert 1 == 2\n"
    code, summary = _run(pytester, target, tests, "-k", "measures or unmarked",
                         profile=PROFILE + everything_but("FUNC-HEALTH"))
    assert verdicts(summary)["FUNC-HEALTH"] == "pass"
    assert code == 1 and summary["release"]["verdict"] in ("error", "scope_failed")
    assert any("test_unmarked" in e for e in summary["harness_errors"])


def test_partial_run_judges_only_selected_criteria(pytester: pytest.Pytester, target: str) -> None:
    code, summary = _run(pytester, target, TESTS, "-k", "measures")
    assert summary["run"]["partial"] is True
    assert summary["release"]["verdict"] == "scope_passed"
    assert summary["release"]["headline"].startswith("partial — not a release decision")
    assert len(summary["out_of_scope"]) == 44
    assert verdicts(summary) == {"FUNC-HEALTH": "pass"}
    assert code == 0
    md = (pytester.path / "reports" / "summary.md").read_text()
    assert md.splitlines()[0].startswith("# ✅ partial — not a release decision")


@pytest.mark.parametrize(("narrow", "partial"), [
    ("test_suite.py::test_measures", True), ("test_suite.py", True), (".", False)])
def test_narrowing_by_path_is_partial(pytester: pytest.Pytester, target: str,
                                      narrow: str, partial: bool) -> None:
    _, summary = _run(pytester, target, TESTS, str(pytester.path / narrow))
    assert summary["run"]["partial"] is partial


def test_unknown_criterion_marker_is_a_usage_error(pytester: pytest.Pytester, target: str) -> None:
    pytester.makefile(".toml", profile=PROFILE.format(url=target))
    pytester.makepyfile(test_suite='import pytest\n@pytest.mark.criterion("FUNC-HEALTHY")\n'
                                   'def test_x():\n    pass\n')
    result = pytester.runpytest_subprocess("-p", "releasegate.pytest_plugin", "--profile",
                                           str(pytester.path / "profile.toml"), "--no-html")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown criterion ID 'FUNC-HEALTHY'*FUNC-HEALTH*"])


def test_secrets_never_reach_the_report(
    pytester: pytest.Pytester, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = PROFILE + '[secrets.canary]\nenv = "RG_TEST_CANARY"\n'
    secret = "canary-5f0c1e9a7b3d4c2e8a6f"
    monkeypatch.setenv("RG_TEST_CANARY", secret)
    tests = TESTS.replace('source="unit")', 'source="unit", evidence={"leak": stack.secrets})')
    pytester.makefile(".toml", profile=profile.format(url=target))
    pytester.makepyfile(test_suite=tests)
    reports = pytester.path / "reports"
    pytester.runpytest_subprocess("-p", "releasegate.pytest_plugin", "--profile",
                                  str(pytester.path / "profile.toml"), "--reports-dir",
                                  str(reports), "--no-html", "-k", "measures")
    text = (reports / "summary.json").read_text()
    assert "«secret:canary»" in text
    assert not (reports / "run" / "stack.json").exists()
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        assert secret not in path.read_text(errors="replace"), path


def test_pytest_internal_error_is_a_harness_error(pytester: pytest.Pytester, target: str) -> None:
    pytester.makeconftest(
        "def pytest_collection_modifyitems(items):\n    raise RuntimeError('x')\n")
    code, summary = _run(pytester, target, TESTS)
    assert code == 1
    assert summary["release"]["verdict"] == "error"
    assert all(r["verdict"] == "not_run" for r in summary["criteria"])


def test_a_test_of_an_excluded_criterion_does_not_run(
    pytester: pytest.Pytester, target: str
) -> None:
    profile = PROFILE + '[exclude."FUNC-E2E-FLOWS"]\nreason = "this service has no flows"\n'
    code, summary = _run(pytester, target, TESTS, profile=profile)
    assert "FUNC-E2E-FLOWS" not in verdicts(summary)
    assert summary["stray"] == [] and summary["run"]["partial"] is False
    assert [e["id"] for e in summary["excluded"]] == ["FUNC-E2E-FLOWS"]
    assert summary["coverage"]["excluded"] == 1 and code == 1
