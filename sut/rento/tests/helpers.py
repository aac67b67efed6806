"""Test helpers: an API wrapper with a token, and a real HTTP receiver for alerts."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

from fastapi.testclient import TestClient


class Api:
    """A TestClient bound to one bearer token."""

    def __init__(self, client: TestClient, token: Optional[str]) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.request("DELETE", url, **kw)

    def create(self, url: str, body: Dict[str, Any]) -> Dict[str, Any]:
        r = self.post(url, json=body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


def login(client: TestClient, username: str, password: str) -> Api:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return Api(client, r.json()["access_token"])


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def assert_error(response: Any, status: int, code: Optional[str] = None) -> Dict[str, Any]:
    """The standard error body: exactly code, message, request_id (+ details on 422)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    allowed = {"code", "message", "request_id"} | ({"details"} if status == 422 else set())
    assert {"code", "message", "request_id"} <= set(body) <= allowed, body
    assert body["request_id"] == response.headers["x-request-id"]
    assert isinstance(body["message"], str) and body["message"]
    text = response.text
    for leak in ("Traceback", 'File "', "SELECT ", "INSERT ", "psycopg", "sqlalchemy"):
        assert leak not in text, text
    if code is not None:
        assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


class AlertReceiver:
    """A real HTTP server on 127.0.0.1 that records POSTed JSON and answers planned statuses."""

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []
        self.attempts: List[Dict[str, Any]] = []
        self.plan: List[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with receiver._lock:
                    status = receiver.plan.pop(0) if receiver.plan else 200
                    receiver.attempts.append({"status": status, "event": payload})
                    if status < 300:
                        receiver.events.append(payload)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = (
            f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts?token=hook-secret"
        )
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self.plan.extend([status] * count)

    def wait_for(
        self, predicate: Callable[[Dict[str, Any]], bool], timeout: float = 10.0
    ) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for event in self.events:
                    if predicate(event):
                        return event
            time.sleep(0.05)
        raise AssertionError(f"no matching alert within {timeout}s; got {self.events}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
