"""FUNC-ERROR-HANDLING and FUNC-ERROR-LOG-ALERT: errors — provoked on every documented operation —
get the status class they call for and a structured body that leaks nothing, are logged under the
request id (server errors at error level), and a server error reaches the alert receiver."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.measure import error_bodies, error_cases
from releasegate.measure.alerts import wait_for_alert
from releasegate.measure.api import Api, LoginAttempt
from releasegate.measure.logs import AppLog
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.e2e


MAX_CASES = 1500
"""Requests one run may spend provoking errors; a document needing more is insufficient, never
a sample of itself."""
BUDGET_S = 300.0
REQUEST_TIMEOUT_S = 10.0


def _document(anon: Api, profile: Profile) -> tuple[dict[str, Any] | None, str]:
    """The OpenAPI document, or why there is none to provoke errors from."""
    path = profile.app.openapi_path
    try:
        response = anon.get(path, timeout=REQUEST_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return None, f"the OpenAPI document at {path} did not answer ({type(exc).__name__})"
    if response.status_code != 200:
        return None, f"the OpenAPI document at {path} answered {response.status_code}, not 200"
    try:
        data = response.json()
    except ValueError:
        return None, f"the OpenAPI document at {path} is not JSON"
    if not isinstance(data, dict) or not error_cases.Document(data).operations():
        return None, f"the OpenAPI document at {path} documents no operation"
    return data, ""


@pytest.mark.criterion("FUNC-ERROR-HANDLING")
def test_errors_are_structured_and_logged(
    healthy_stack: StackInfo, gate_profile: Profile, anon: Api, admin_login: LoginAttempt,
    record: Recorder, request: pytest.FixtureRequest,
) -> None:
    document, problem = _document(anon, gate_profile)
    if document is None:
        record.insufficient("FUNC-ERROR-HANDLING", f"{problem}: errors cannot be provoked on "
                            "every documented operation")
        return
    marker = uuid.uuid4().hex[:8]
    login = gate_profile.login
    app = gate_profile.app
    cases = error_cases.plan(
        document, marker=marker, probe=gate_profile.probes.get("server_error"),
        session=(login.header, login.scheme) if login else None,
        public={app.health_path, app.liveness_path, app.openapi_path, login.path if login else ""})
    if len(cases) > MAX_CASES:
        record.insufficient("FUNC-ERROR-HANDLING", f"the document needs {len(cases)} error "
                            f"cases, more than the {MAX_CASES} one run may send")
        return
    started = time.time()
    deadline = time.monotonic() + BUDGET_S
    checks = CheckList()
    seen: list[dict[str, Any]] = []
    fields = gate_profile.option("FUNC-ERROR-HANDLING", "body_fields")
    header = gate_profile.app.request_id_header
    for i, case in enumerate(cases):
        if time.monotonic() > deadline:
            record.insufficient("FUNC-ERROR-HANDLING", f"only {i} of {len(cases)} error cases "
                                f"were sent within {BUDGET_S:.0f} s")
            return
        client = admin_login.api if case.auth == "valid" else anon
        if client is None:
            continue  # needs the profile's login, which failed: reported below
        headers = {**case.headers, header: f"rg-{marker}-{i}"}
        try:
            response = client.request(case.method, case.path, headers=headers,
                                      params=case.params or None, content=case.content,
                                      timeout=REQUEST_TIMEOUT_S)
        except httpx.HTTPError as exc:
            checks.add(case.what, False, f"no answer: {type(exc).__name__}")
            continue
        problems = [p for p in [case.status_problem(response.status_code)] if p]
        problems += error_bodies.body_violations(response, fields=fields,
                                                 request_id_header=header)
        checks.add(case.what, not problems, "; ".join(problems) or f"{response.status_code}")
        seen.append({"case": case.what, "status": response.status_code,
                     "request_id": response.headers.get(header),
                     "body": response.text[:300]})
    if admin_login.api is None:
        record.insufficient("FUNC-ERROR-HANDLING", admin_login.failure,
                            scope="cases that need a login")
    if not seen:
        record.insufficient("FUNC-ERROR-HANDLING", "no error could be provoked")
        return
    attachments = [record.attach("error-responses.json", json.dumps(seen, indent=2))]
    if healthy_stack.app_container:
        app_log: AppLog = request.getfixturevalue("app_log")
        time.sleep(1.0)  # let the log writer flush
        text = app_log.read(since=started)
        # Only lines naming this run's ids are searched, not the whole log once per case.
        ids = {c["request_id"] for c in seen if c["request_id"]}
        ours = "\n".join(line for line in text.splitlines()
                         if marker in line or any(i in line for i in ids))
        for answer in seen:
            rid = answer["request_id"]
            entries = app_log.entries_for(ours, rid) if rid else []
            checks.add(f"request id of '{answer['case']}' is in the application log",
                       bool(entries), f"{rid} not found in {len(text.splitlines())} log lines"
                       if not entries else "")
            if answer["status"] >= 500:
                checks.add(f"'{answer['case']}' is logged at error level under its request id",
                           any(e.is_error for e in entries),
                           f"levels seen: {[e.level for e in entries]}")
        attachments.append(record.attach("app-log-window.txt", text[-200_000:]))
        source = (f"errors provoked on every operation of the OpenAPI document over HTTP; "
                  f"status classes, bodies and {header} inspected; {app_log.source} searched "
                  "for each request id")
    else:
        source = "errors provoked over HTTP; bodies inspected (no log access: ids unverified)"
        record.insufficient("FUNC-ERROR-HANDLING",
                            "the application's logs are not reachable, so the request ids "
                            "cannot be matched to log entries", scope="error log")
    operations = sorted({c.operation for c in cases})
    record.checks("FUNC-ERROR-HANDLING", checks, source=source, attachments=attachments,
                  evidence={"operations": len(operations), "cases": len(cases),
                            "by_case": [{k: v for k, v in c.items() if k != "body"}
                                        for c in seen]}, scope="error responses")


@pytest.mark.criterion("FUNC-ERROR-LOG-ALERT")
def test_server_error_is_logged_and_alerted(
    healthy_stack: StackInfo, gate_profile: Profile, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    probe = gate_profile.probes.get("server_error")
    if not probe:
        record.insufficient("FUNC-ERROR-LOG-ALERT",
                            "the profile names no way to provoke a server error "
                            "([probes.server_error])")
        return
    # Only now what the environment and the login must give: a profile-level reason above is
    # never hidden behind them.
    app_log: AppLog = request.getfixturevalue("app_log")
    alerts_url: str = request.getfixturevalue("alerts_url")
    api: Api = request.getfixturevalue("api")
    header = gate_profile.app.request_id_header
    timeout = float(gate_profile.option("FUNC-ERROR-LOG-ALERT", "alert_timeout_s"))
    request_id = f"rg-alert-{uuid.uuid4().hex[:12]}"
    started = time.time()
    response = api.request(str(probe.get("method", "POST")), str(probe["path"]),
                           headers={header: request_id})
    rid = response.headers.get(header) or request_id
    checks = CheckList()
    checks.add("the probe ends in a 5xx", response.status_code >= 500,
               f"answered {response.status_code}")
    id_path = gate_profile.alerts.request_id_path
    alert = wait_for_alert(alerts_url, {id_path: rid}, timeout=timeout, since=started)
    checks.add(f"an alert naming the request reaches the receiver within {timeout:.0f} s",
               alert is not None, f"no alert with {id_path} {rid}")
    text = app_log.read(since=started)
    entries = app_log.entries_for(text, rid)
    errors = [e for e in entries if e.is_error]
    fmt = gate_profile.app.logs.format
    checks.add(f"a structured ({fmt}) log entry at error level carries the request id",
               bool(errors), f"{len(entries)} {fmt} entries with the id, none at error level"
               if entries else f"no {fmt} log entry with the id")
    delay = round(alert["received_at"] - started, 3) if alert else None
    record.checks(
        "FUNC-ERROR-LOG-ALERT", checks,
        source="server error provoked through the profile's probe; alert read from the "
               f"harness's own HTTP receiver; log from {app_log.source}",
        evidence={"request_id": rid, "status": response.status_code, "alert_delay_s": delay,
                  "alert": alert["body"] if alert else None,
                  "log_entry": errors[0].fields or errors[0].line if errors else None},
    )
