"""A real HTTP receiver for the application's alert webhook.

It runs for the whole run, bound to the run network's gateway address so that containers on that
network — and nothing else — can reach it. Suites read what arrived over HTTP too, so a
pytest-xdist worker sees the same alerts as the controller.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from releasegate.measure.jsonpath import MISSING, dig

_MAX_ALERTS = 10_000
_MAX_BODY = 1_000_000
READ_PATH = "/__releasegate/alerts"


class _Handler(BaseHTTPRequestHandler):
    server: AlertReceiver

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
        raw = self.rfile.read(length)
        try:
            body: Any = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.server.store({
            "received_at": time.time(), "path": self.path, "body": body,
            "content_type": self.headers.get("Content-Type", ""),
        })
        self.send_response(204)
        self.end_headers()

    def do_GET(self) -> None:
        if self.path != READ_PATH:
            self.send_error(404)
            return
        payload = json.dumps(self.server.received()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the receiver's own access log is noise in the harness output


class AlertReceiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self._alerts: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name="alerts", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> AlertReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def store(self, alert: dict[str, Any]) -> None:
        with self._lock:
            if len(self._alerts) < _MAX_ALERTS:
                self._alerts.append(alert)

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._alerts)


def start_receiver(host: str) -> AlertReceiver:
    """An alert receiver listening on ``host`` (the run network's gateway), already serving."""
    return AlertReceiver(host).start()


def read_alerts(read_url: str, *, timeout: float = 5.0) -> list[dict[str, Any]]:
    response = httpx.get(read_url + READ_PATH, timeout=timeout)
    response.raise_for_status()
    alerts: list[dict[str, Any]] = response.json()
    return alerts


def wait_for_alert(
    read_url: str, match: dict[str, str], *, timeout: float, since: float = 0.0
) -> dict[str, Any] | None:
    """The first alert whose JSON body has, at every dotted path of ``match`` (the profile's
    ``[alerts] request_id_path``, say), the value given; None at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        for alert in read_alerts(read_url):
            body = alert.get("body")
            if alert["received_at"] >= since and isinstance(body, (dict, list)) and all(
                (found := dig(body, path)) is not MISSING and str(found) == value
                for path, value in match.items()
            ):
                return alert
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.25)
