"""A login that fails is said once, in one line, in every verdict that needed it; what needs no
login still runs, and profile-level reasons come first.

The real e2e suites run in a pytest subprocess against a small real HTTP application whose login
is switched off, through the external provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.fake_app import FakeApp, running

REPO = Path(__file__).resolve().parents[2]
REASON = ("the profile's login recipe got 422 from POST /login: "
          '{"code": "login_switched_off", "message": "login switched off", "request_id": null}')
PROFILE = """
[profile]
name = "login-failure"
[stack]
provider = "external"
[external]
base_url = "{url}"
[services.app]
kind = "app"
image = "unused:1"
port = 8000
health_path = "/health"
request_id_header = "X-Trace-Id"
[login]
path = "/login"
username = "admin"
password = "wrong"
token_path = "data.token"
header = "X-Auth"
scheme = ""
"""
STEPS = """
[[e2e.steps]]
name = "list items"
path = "/items"
"""


@pytest.fixture(scope="module")
def app() -> Iterator[FakeApp]:
    with running() as server:
        server.login_status = 422
        yield server


def run_e2e(pytester: pytest.Pytester, profile: str) -> dict[str, dict[str, Any]]:
    pytester.makefile(".toml", profile=profile)
    reports = pytester.path / "reports"
    pytester.runpytest_subprocess(
        str(REPO / "suites" / "e2e"), "-p", "releasegate.pytest_plugin", "-p",
        "no:cacheprovider", "--profile", str(pytester.path / "profile.toml"),
        "--reports-dir", str(reports), "--no-html", "-m", "e2e")
    summary = json.loads((reports / "summary.json").read_text())
    return {r["id"]: r for r in summary["criteria"]}


def test_a_failed_login_is_one_line_in_every_verdict_that_needed_it(
        pytester: pytest.Pytester, app: FakeApp) -> None:
    records = run_e2e(pytester, PROFILE.format(url=app.url) + STEPS)
    flows, errors, alerts = (records[c] for c in (
        "FUNC-E2E-FLOWS", "FUNC-ERROR-HANDLING", "FUNC-ERROR-LOG-ALERT"))
    # Not measurable without the login: insufficient, with the login's own words.
    assert flows["verdict"] == "insufficient"
    assert flows["reasons"] == [REASON]
    assert errors["verdict"] == "insufficient"
    assert f"[cases that need a login] {REASON}" in errors["reasons"]
    # The anonymous cases still ran, against the profile's request-id header.
    checks = {c["name"]: c for part in errors["parts"] for c in part["checks"]}
    assert checks["no credentials on GET /items → 401"]["ok"] is True
    assert checks["bad credentials on GET /items → 401"]["ok"] is True
    # An authenticated case: not run, and said so.
    assert not [name for name in checks if name.startswith("unknown route")]
    # A profile-level reason is not hidden behind the login.
    assert alerts["verdict"] == "insufficient"
    assert alerts["reasons"] == ["the profile names no way to provoke a server error "
                                 "([probes.server_error])"]


def test_no_flow_is_said_before_any_login(pytester: pytest.Pytester, app: FakeApp) -> None:
    records = run_e2e(pytester, PROFILE.format(url=app.url))
    assert records["FUNC-E2E-FLOWS"]["verdict"] == "insufficient"
    assert records["FUNC-E2E-FLOWS"]["reasons"][0].startswith(
        "the profile names no [e2e] flow")
