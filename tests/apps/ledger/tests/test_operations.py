"""Health, correlation ids, error bodies, logs and alerts."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.config import Settings

HEALTH = "/api/v1/utils/health-check"
DRILL = "/api/v1/utils/test-error"


@pytest.fixture()
def log_lines() -> Iterator[io.StringIO]:
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "ledger_handler", False))
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_health_reports_the_database_and_process(client: FlaskClient) -> None:
    answer = client.get(HEALTH)
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "pass"
    db = body["checks"]["db"]
    assert db["status"] == "pass" and db["postgres_version"][:2].isdigit()
    assert body["version"] == "9.9.9-test" and body["memory"]["rss_bytes"] > 0
    assert body["uptime_seconds"] >= 0


def test_health_is_503_while_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = dataclasses.replace(settings, database=dataclasses.replace(
        settings.database, port=1, connect_timeout_s=2))
    client = create_app(unreachable).test_client()
    started = time.monotonic()
    answer = client.get(HEALTH)
    body = answer.get_json()
    assert answer.status_code == 503 and time.monotonic() - started < 10
    assert body["checks"] == {"db": {"status": "fail"}} and body["status"] == "fail"
    assert body["error"] == "service_unavailable"
    assert body["correlation_id"] == answer.headers["X-Correlation-ID"]
    assert client.get("/api/v1/utils/ping").status_code == 200
    login = client.post("/api/v1/login/access-token", data={"username": "a@b.c", "password": "x"})
    assert login.status_code == 503 and login.get_json()["error"] == "service_unavailable"
    assert login.headers["Retry-After"] == "5"


def test_correlation_ids_are_echoed_or_made(client: FlaskClient) -> None:
    offered = client.get("/api/v1/utils/ping", headers={"X-Correlation-ID": "abc-123.x"})
    assert offered.headers["X-Correlation-ID"] == "abc-123.x"
    for bad in ("a" * 65, "has space", "new\\nline"):
        made = client.get("/api/v1/utils/ping", headers={"X-Correlation-ID": bad})
        assert made.headers["X-Correlation-ID"] != bad and len(
            made.headers["X-Correlation-ID"]) == 32
    assert len(client.get("/api/v1/utils/ping").headers["X-Correlation-ID"]) == 32


def test_every_error_has_the_same_shape(client: FlaskClient) -> None:
    for answer, status in ((client.get("/nowhere"), 404),
                           (client.delete("/api/v1/login/access-token"), 405),
                           (client.get("/api/v1/users/me"), 401)):
        body = answer.get_json()
        assert answer.status_code == status
        assert set(body) >= {"error", "detail", "correlation_id"}
        assert body["correlation_id"] == answer.headers["X-Correlation-ID"]
    assert "POST" in client.delete("/api/v1/login/access-token").headers["Allow"]


def test_openapi_document_lists_every_operation(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/ledgers/{ledger_id}/balance" in spec["paths"]
    login = spec["paths"]["/api/v1/login/access-token"]["post"]
    assert "application/x-www-form-urlencoded" in login["requestBody"]["content"]


def test_the_drill_is_for_admins_and_fails_cleanly(client: FlaskClient, admin: dict[str, str],
                                                   new_user: Any,
                                                   log_lines: io.StringIO) -> None:
    _, user = new_user()
    assert client.post(DRILL, headers=user).status_code == 403
    answer = client.post(DRILL, headers={**admin, "X-Correlation-ID": "drill-1"})
    assert answer.status_code == 500
    assert answer.get_json() == {"error": "internal_error", "detail": "internal server error",
                                 "correlation_id": "drill-1"}
    lines = log_lines.getvalue().splitlines()
    errors = [line for line in lines if " ERROR [cid=drill-1] " in line]
    assert any("unhandled error on POST /api/v1/utils/test-error" in line for line in errors)
    assert any("ledger.access: POST /api/v1/utils/test-error 500" in line for line in errors)
    assert "Traceback" in log_lines.getvalue() and "Traceback" not in answer.get_data(True)


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []
    fail_first: ClassVar[int] = 1

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(502)
        else:
            type(self).bodies.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def test_server_errors_are_alerted_with_retries(settings: Settings, app: Flask,
                                                admin: dict[str, str]) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        alerting = create_app(dataclasses.replace(
            settings, alert_webhook_url=f"http://127.0.0.1:{server.server_port}/hook"),
            engine=app.extensions["ledger.engine"])
        answer = alerting.test_client().post(DRILL, headers={**admin,
                                                             "X-Correlation-ID": "alert-7"})
        assert answer.status_code == 500
        assert alerting.extensions["ledger.alerts"].drain(10)
    finally:
        server.shutdown()
    assert len(_Receiver.bodies) == 1
    event = _Receiver.bodies[0]["event"]
    assert event["correlation_id"] == "alert-7" and event["status"] == 500
    assert event["path"] == DRILL and _Receiver.bodies[0]["service"] == "ledger"


class _ServerError(Exception):
    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("orig,unavailable", [
    (Exception("failed to resolve host 'db': Name or service not known"), True),
    (_ServerError("terminating connection due to administrator command", "57P01"), True),
    (_ServerError("the database system is starting up", "57P03"), True),
    (_ServerError("canceling statement due to statement timeout", "57014"), False),
])
def test_only_connection_failures_are_503(orig: Exception, unavailable: bool) -> None:
    from sqlalchemy.exc import OperationalError

    from ledger.errors import _is_connection_problem

    assert _is_connection_problem(OperationalError("SELECT 1", {}, orig)) is unavailable
