"""A small real HTTP application for the harness's unit tests, in another style than the
reference one: a JSON login that nests its token, a form-encoded OAuth2 login, a custom auth
header, and plain error bodies. Behaviour a test wants broken is switched on the server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

USERS = {"admin": "s3cret-admin", "alice": "alice-pass"}
AUTH_HEADER = "X-Auth"
"""The fake app's own header for the token (no scheme); request ids travel in X-Trace-Id."""


class FakeApp(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.login_status: int | None = None
        """Set to make every login answer this status instead."""
        self.items: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeApp

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        rid = self.headers.get("X-Trace-Id")
        if rid:
            self.send_header("X-Trace-Id", rid)
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> tuple[str, bytes]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return self.headers.get("Content-Type", ""), raw

    def _user(self) -> str | None:
        token = self.headers.get(AUTH_HEADER, "")
        return token.removeprefix("tok-") if token.startswith("tok-") else None

    def _error(self, status: int, code: str) -> None:
        self._send(status, {"code": code, "message": code.replace("_", " "),
                            "request_id": self.headers.get("X-Trace-Id")})

    def do_DELETE(self) -> None:
        self._error(405, "method_not_allowed")

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.server.requests.append(("GET", self.path, ""))
        if url.path == "/health":
            self._send(200, {"status": "ok"})
        elif url.path == "/openapi.json":
            self._send(200, {"paths": {"/items": {"get": {}, "post": {}},
                                       "/items/{id}": {"get": {}},
                                       "/login": {"post": {}}}})
        elif self._user() is None:
            self._error(401, "unauthorized")
        elif url.path == "/me":
            self._send(200, {"user": self._user()})
        elif url.path == "/items":
            q = parse_qs(url.query).get("q", [""])[0]
            found = [i for i in self.server.items.values() if q in i["name"]]
            self._send(200, {"total": len(found), "items": found})
        elif url.path.startswith("/items/") and url.path[7:].isdigit() and (
                int(url.path[7:]) in self.server.items):
            self._send(200, self.server.items[int(url.path[7:])])
        else:
            self._error(404, "not_found")

    def do_POST(self) -> None:
        kind, raw = self._body()
        self.server.requests.append(("POST", self.path, raw.decode()))
        if self.path in ("/login", "/oauth/token"):
            self._login(kind, raw)
        elif self.path == "/items" and self._user() is not None:
            try:
                body = json.loads(raw)
            except ValueError:
                self._error(400, "bad_json")
                return
            with self.server.lock:
                item = {"id": len(self.server.items) + 1, "owner": self._user(), **body}
                self.server.items[item["id"]] = item
            self._send(201, item)
        elif self._user() is None:
            self._error(401, "unauthorized")
        else:
            self._error(404, "not_found")

    def _login(self, kind: str, raw: bytes) -> None:
        if self.server.login_status is not None:
            self._error(self.server.login_status, "login_switched_off")
            return
        if self.path == "/oauth/token":  # OAuth2 password flow: form-encoded only
            if "application/x-www-form-urlencoded" not in kind:
                self._send(422, {"detail": "form data expected"})
                return
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            try:
                form = json.loads(raw)
            except ValueError:
                self._send(422, {"detail": "JSON expected"})
                return
        user, password = form.get("username"), form.get("password")
        if USERS.get(str(user)) != password:
            self._send(401, {"detail": "bad credentials"})
        elif self.path == "/oauth/token":
            self._send(200, {"access_token": f"tok-{user}", "token_type": "bearer"})
        else:
            self._send(200, {"data": {"token": f"tok-{user}"}})


@contextmanager
def running() -> Iterator[FakeApp]:
    server = FakeApp()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
