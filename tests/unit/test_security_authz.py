"""The authorization probe against a small fake application (httpx.MockTransport): the clean
one yields no finding; each planted defect yields the finding of its kind, on its operation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from releasegate.config.sections.authz import AuthzSettings
from releasegate.measure.api import Api
from releasegate.measure.security.authz import (
    AuthzProbe,
    Sessions,
    credential_headers,
    with_token,
)
from releasegate.measure.security.errorcheck import ErrorInspector
from releasegate.measure.security.openapi import operations

BASE = "http://app.test"
USERS = {"tokA": ("admin", 1), "tokS": ("staff", 1), "tokB": ("admin", 2)}
DOC: dict[str, Any] = {"openapi": "3.0.0", "paths": {
    "/health": {"get": {"responses": {"200": {}}}},
    "/items/{item_id}": {
        "parameters": [{"name": "item_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "get": {"responses": {"200": {}}}, "delete": {"responses": {"204": {}}},
        "patch": {"requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"name": {"type": "string"}}}}}},
            "responses": {"200": {}}}},
    "/admin/stats": {"get": {"responses": {"200": {}}}},
    "/debug/env": {"get": {"responses": {"200": {}}}},
}}
SETTINGS = AuthzSettings(public=("GET /health",), admin_only=("GET /admin/*",))


def fake_app(*, bola: bool = False, debug_open: bool = False, role_bug: bool = False,
             leaky: bool = False) -> httpx.MockTransport:
    items = {7: 1}

    def error(status: int, request_id: str = "rid") -> httpx.Response:
        text = {"code": "e", "message": "m", "request_id": request_id}
        if leaky:
            text["message"] = 'Traceback (most recent call last):\n  File "a.py", line 1'
        return httpx.Response(status, json=text, headers={"X-Request-ID": request_id})

    def handle(request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if path == "/health" or (path == "/debug/env" and debug_open):
            return httpx.Response(200, json={"ok": True})
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in USERS:
            return error(401)
        role, account = USERS[token]
        if path.startswith("/admin") or path == "/debug/env":
            return httpx.Response(200, json={}) if role == "admin" or role_bug else error(403)
        item = int(path.rsplit("/", 1)[1])
        if item not in items or (items[item] != account and not bola):
            return error(404)
        if method == "DELETE":
            if role != "admin":
                return error(403)
            del items[item]
            return httpx.Response(204)
        return httpx.Response(200, json={"id": item})

    return httpx.MockTransport(handle)


def api(token: str, transport: httpx.MockTransport) -> Api:
    client = Api(BASE, token=token)
    client.http = httpx.Client(base_url=BASE, headers=client.http.headers, transport=transport)
    return client


def probe(transport: httpx.MockTransport, **sessions: Any) -> AuthzProbe:
    given = {"admin": api("tokA", transport), "low": api("tokS", transport),
             "other": api("tokB", transport), "expired_token": "tokExpired",
             "captured": {"item_id": 7}, **sessions}
    inspector = ErrorInspector(fields={"code": "code", "message": "message",
                                       "request_id": "request_id"},
                               request_id_header="X-Request-ID", canaries={})
    run = AuthzProbe(BASE, operations(DOC), DOC, SETTINGS, Sessions(**given), inspector,
                     max_seconds=30, transport=transport)
    run.run()
    return run


def rules(run: AuthzProbe) -> set[tuple[str, str]]:
    return {(f.rule, f.location) for f in run.findings}


def test_the_clean_application_has_no_finding_and_full_coverage() -> None:
    run = probe(fake_app())
    assert run.findings == []
    assert all(not c.uncovered for c in run.coverage.values())
    assert run.coverage["GET /health"].results["no credentials"].startswith("n/a")
    assert run.coverage["DELETE /items/{item_id}"].results["other account"] == "ok"


def test_a_missing_ownership_check_is_bola_on_each_verb() -> None:
    run = probe(fake_app(bola=True))
    assert rules(run) == {("authz-bola", "GET /items/{item_id}"),
                          ("authz-bola", "PATCH /items/{item_id}"),
                          ("authz-bola", "DELETE /items/{item_id}")}
    delete = [f for f in run.findings if f.location.startswith("DELETE")]
    assert delete[0].severity == "critical" and delete[0].owasp.startswith("API1")


def test_an_unauthenticated_route_is_found_with_a_reproduction() -> None:
    run = probe(fake_app(debug_open=True))
    found = {f.rule for f in run.findings if f.location == "GET /debug/env"}
    assert found == {"authz-no-credentials", "authz-malformed-token", "authz-expired-token"}
    first = next(f for f in run.findings if f.rule == "authz-no-credentials")
    assert first.severity == "critical" and first.reproduction.startswith("curl -X GET")


def test_the_wrong_role_is_found() -> None:
    assert ("authz-role", "GET /admin/stats") in rules(probe(fake_app(role_bug=True)))


def test_missing_roles_leave_checks_not_covered_with_the_reason() -> None:
    run = probe(fake_app(), other=None, expired_token=None,
                missing={"other": "no second account", "expired": "no expired_token command"})
    item = run.coverage["GET /items/{item_id}"]
    assert item.uncovered == {"other account": "not covered: no second account",
                              "expired token": "not covered: no expired_token command"}


def test_error_bodies_of_the_traffic_are_inspected() -> None:
    run = probe(fake_app(leaky=True))
    tally = run.inspector.tally("authorization traffic")
    assert tally.examined > 10 and tally.violating == tally.examined == tally.sensitive


def test_the_time_box_marks_the_rest_not_covered() -> None:
    ticks = iter([0.0] + [100.0] * 1000)
    transport = fake_app()
    inspector = ErrorInspector(fields={}, request_id_header="X-Request-ID", canaries={})
    run = AuthzProbe(BASE, operations(DOC), DOC, SETTINGS,
                     Sessions(admin=api("tokA", transport)), inspector, max_seconds=1,
                     clock=lambda: next(ticks), transport=transport)
    run.run()
    assert run.requests == 0
    assert all("time box" in why for c in run.coverage.values() for why in c.uncovered.values())


@pytest.mark.parametrize(("header", "scheme"), [("Authorization", "Bearer"),
                                                ("X-Api-Token", "")])
def test_credentials_follow_the_recipes_header_and_scheme(header: str, scheme: str) -> None:
    client = Api(BASE, token="tok123", header=header, scheme=scheme)
    creds = credential_headers(client)
    assert list(creds) == [header]
    swapped = with_token(creds, "tok123", "bad")
    assert json.dumps(swapped).count("bad") == 1 and "tok123" not in json.dumps(swapped)
