"""Per-request context: request id, timing, security headers, access log, metrics, last-resort 500.

A pure ASGI middleware (not ``BaseHTTPMiddleware``) so that it wraps the whole exchange cheaply
and sees unhandled exceptions itself. It catches them *before* Starlette's ServerErrorMiddleware
would, so even a crash gets the standard JSON body, the request id and the timing headers, is
logged once with its traceback, and raises one alert.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any, Dict, MutableMapping

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rento import alerts, metrics
from rento.logging_setup import request_id_var
from rento.redaction import redact

access_log = logging.getLogger("rento.access")
error_log = logging.getLogger("rento.errors")

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_BODY_BYTES = 1024 * 1024
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Default headers for every response; HTML routes set a more specific CSP themselves.
_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}
# Swagger UI (development only) loads its assets from a CDN; a strict CSP would blank it.
_NO_CSP_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    # path_format drops convertors: "/api/rooms/{room_id}", as in the OpenAPI document.
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        response: Dict[str, Any] = {"status": 500, "started": False}
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["started"] = True
                response["status"] = message["status"]
                elapsed_ms = (time.perf_counter() - started) * 1000
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                timing = f"app;dur={elapsed_ms:.1f}"
                if "db_wait_ms" in state:  # part of it spent waiting for a database slot
                    timing += f", db-wait;dur={state['db_wait_ms']:.1f}"
                headers["Server-Timing"] = timing
                for name, value in _SECURITY_HEADERS.items():
                    if name == "content-security-policy" and path in _NO_CSP_PATHS:
                        continue
                    if name not in headers:
                        headers[name] = value
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise StarletteHTTPException(413, "Request body too large")
            return message

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await _send_error(
                    send_with_headers,
                    413,
                    "payload_too_large",
                    "Request body too large",
                    request_id,
                )
                state["error_code"] = "payload_too_large"
            else:
                await self.app(scope, limited_receive, send_with_headers)
        except Exception as exc:
            self._record_unhandled(scope, exc)
            if response["started"]:
                raise  # too late for a clean answer; the server closes the connection
            state["error_code"] = "internal_error"
            await _send_error(
                send_with_headers, 500, "internal_error", "An unexpected error occurred", request_id
            )
        finally:
            self._observe(scope, response["status"], started, state.get("error_code"))
            request_id_var.reset(token)

    def _record_unhandled(self, scope: Scope, exc: Exception) -> None:
        route = route_template(scope)
        method = scope.get("method", "")
        path = scope.get("path", "")
        error_type = type(exc).__name__
        metrics.UNHANDLED_EXCEPTIONS.labels(error_type=error_type).inc()
        error_log.error(
            "unhandled error",
            exc_info=exc,
            extra={"route": route, "method": method, "path": path, "error_type": error_type},
        )
        try:
            alerts.send_alert(
                {
                    "event": "server_error",
                    "request_id": request_id_var.get(),
                    "method": method,
                    "path": path,
                    "route": route,
                    "error_type": error_type,
                    "message": redact(str(exc))[:500],
                }
            )
        except Exception:  # alerting must never turn one failure into two
            error_log.exception("could not queue alert")

    def _observe(self, scope: Scope, status: int, started: float, code: Any) -> None:
        duration = time.perf_counter() - started
        method = scope.get("method", "")
        method_label = method if method in _KNOWN_METHODS else "OTHER"
        route = route_template(scope)
        metrics.REQUEST_DURATION.labels(method_label, route, str(status)).observe(duration)
        extra: Dict[str, Any] = {
            "method": method,
            "path": scope.get("path", ""),
            "route": route,
            "status": status,
            "duration_ms": round(duration * 1000, 2),
        }
        if status >= 400:
            error_code = str(code or "error")
            extra["error_code"] = error_code
            metrics.HTTP_ERRORS.labels(method_label, route, str(status), error_code).inc()
        level = (
            logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        )
        access_log.log(level, "%s %s %s", method, extra["path"], status, extra=extra)


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if REQUEST_ID_RE.match(candidate) else ""
    return ""


def _content_length(scope: Scope) -> Any:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(send: Send, status: int, code: str, message: str, request_id: str) -> None:
    body = json.dumps({"code": code, "message": message, "request_id": request_id}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
