"""FUNC-ERROR-HANDLING and FUNC-ERROR-LOG-ALERT: errors are structured, leak nothing, are logged
under the request id, and a server error reaches the alert receiver."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.measure import error_bodies
from releasegate.measure.alerts import wait_for_alert
from releasegate.measure.api import Api, LoginAttempt
from releasegate.measure.logs import AppLog
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.e2e


def _openapi_operations(anon: Api, profile: Profile) -> list[tuple[str, str, list[str]]]:
    """(method, path, names of integer query parameters) of every documented operation."""
    response = anon.get(profile.app.openapi_path)
    if response.status_code != 200:
        return []
    ops: list[tuple[str, str, list[str]]] = []
    for path, item in (response.json().get("paths") or {}).items():
        for method, operation in item.items():
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                continue
            integers = [
                str(p["name"]) for p in (operation.get("parameters") or [])
                if p.get("in") == "query" and _is_integer(p.get("schema") or {})
            ]
            ops.append((method.upper(), path, integers))
    return ops


def _is_integer(schema: dict[str, Any]) -> bool:
    options = [schema, *(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    return any(option.get("type") == "integer" for option in options)


def _provocations(profile: Profile, anon: Api, api: Api | None, marker: str) -> list[
    tuple[str, Api | None, str, str, dict[str, Any]]
]:
    """(what, client, method, path, kwargs) for every kind of error worth provoking; ``api`` is
    None where the profile's login failed (those cases are then left out, and said so)."""
    ops = _openapi_operations(anon, profile)
    public = {profile.app.health_path, profile.app.liveness_path, profile.app.openapi_path,
              profile.login.path if profile.login else ""}
    protected = next((p for m, p, _ in ops if m == "GET" and p not in public and "{" not in p),
                     None)
    typed = next(((p, ints) for m, p, ints in ops if m == "GET" and ints and "{" not in p), None)
    by_id = next((p for m, p, _ in ops if m == "GET" and p.count("{") == 1), None)
    login = profile.login.path if profile.login else None
    cases: list[tuple[str, Api | None, str, str, dict[str, Any]]] = [
        ("unknown route → 404", api, "GET", f"/releasegate-missing-{marker}", {}),
    ]
    if protected:
        cases.append(("no credentials → 401", anon, "GET", protected, {}))
        cases.append(("bad token → 401", anon, "GET", protected,
                      {"headers": {"Authorization": "Bearer not-a-real-token"}}))
    if typed:
        path, integers = typed
        cases.append(("integer query parameter given text → 422", api, "GET", path,
                      {"params": {integers[0]: "not-a-number"}}))
    if by_id:
        cases.append(("missing object → 404", api, "GET", by_id.split("{")[0] + "987654321", {}))
    if login:
        cases.append(("malformed JSON → 4xx", anon, "POST", login,
                      {"content": b'{"username": ', "headers": {"Content-Type":
                                                                  "application/json"}}))
        cases.append(("wrong types → 422", anon, "POST", login,
                      {"json": {"username": ["x"], "password": {"a": 1}}}))
        cases.append(("method not allowed → 405", anon, "DELETE", login, {}))
    probe = profile.probes.get("server_error")
    if probe:
        cases.append(("provoked server error → 500", api, str(probe.get("method", "POST")),
                      str(probe["path"]), {}))
    return cases


@pytest.mark.criterion("FUNC-ERROR-HANDLING")
def test_errors_are_structured_and_logged(
    healthy_stack: StackInfo, gate_profile: Profile, anon: Api, admin_login: LoginAttempt,
    record: Recorder, request: pytest.FixtureRequest,
) -> None:
    marker = uuid.uuid4().hex[:8]
    started = time.time()
    checks = CheckList()
    seen: list[dict[str, Any]] = []
    fields = gate_profile.option("FUNC-ERROR-HANDLING", "body_fields")
    header = gate_profile.app.request_id_header
    for i, (what, client, method, path, kwargs) in enumerate(
            _provocations(gate_profile, anon, admin_login.api, marker)):
        if client is None:
            continue  # needs the profile's login, which failed: reported below
        request_id = f"rg-{marker}-{i}"
        headers = {**kwargs.pop("headers", {}), header: request_id}
        try:
            response = client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            checks.add(what, False, f"no answer: {type(exc).__name__}")
            continue
        problems = error_bodies.body_violations(response, fields=fields,
                                                request_id_header=header)
        if response.status_code < 400:
            problems.insert(0, f"answered {response.status_code}, not an error")
        checks.add(what, not problems, "; ".join(problems) or f"{response.status_code}")
        seen.append({"case": what, "status": response.status_code,
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
        for case in seen:
            rid = case["request_id"]
            found = bool(rid) and bool(app_log.entries_for(text, rid))
            checks.add(f"request id of '{case['case']}' is in the application log", found,
                       f"{rid} not found in {len(text.splitlines())} log lines" if not found
                       else "")
        attachments.append(record.attach("app-log-window.txt", text[-200_000:]))
        source = (f"errors provoked over HTTP; bodies and {header} inspected; "
                  f"{app_log.source} searched for each request id")
    else:
        source = "errors provoked over HTTP; bodies inspected (no log access: ids unverified)"
        record.insufficient("FUNC-ERROR-HANDLING",
                            "the application's logs are not reachable, so the request ids "
                            "cannot be matched to log entries", scope="error log")
    record.checks("FUNC-ERROR-HANDLING", checks, source=source, attachments=attachments,
                  evidence={"cases": [{k: v for k, v in c.items() if k != "body"}
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
