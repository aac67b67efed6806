"""One error shape for every 4xx/5xx: ``{"error", "detail", "correlation_id"}`` (+ ``fields``).

Unexpected exceptions are logged with their traceback (in the log, never in the answer), become
a 500, and raise an alert; a database that cannot be reached is a 503.
"""

from __future__ import annotations

import logging
from typing import Any

import flask_smorest
from flask import Flask, current_app, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from ledger.logs import correlation_id, printable
from ledger.schemas import ErrorSchema

log = logging.getLogger("ledger.errors")

CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests",
    500: "internal_error", 503: "service_unavailable",
}
LOCATIONS = ("json", "form", "query", "querystring", "headers", "files", "view_args")


def error_body(status: int, detail: str, *, code: str | None = None,
               invalid: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code or CODES.get(status, f"http_{status}"),
                            "detail": detail, "correlation_id": correlation_id()}
    if invalid:
        body["fields"] = invalid
    return body


class Api(flask_smorest.Api):
    """flask-smorest with this service's error shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        status = int(error.code or 500)
        data = getattr(error, "data", None) or {}
        detail = str(data.get("message") or error.description or error.name)
        invalid = _field_errors(data.get("errors") or data.get("messages"))
        if status == 500:
            return server_error(getattr(error, "original_exception", None) or error)
        if invalid and status in (400, 422):
            detail = "the request is malformed" if status == 400 else "invalid input"
        # Werkzeug's own headers matter (Allow on a 405); its Content-Type does not.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return error_body(status, detail, code=data.get("code"), invalid=invalid), status, headers


def _field_errors(raw: Any) -> dict[str, Any] | None:
    """webargs nests messages under the location ("json", "form", "query"): lift them out."""
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in LOCATIONS and isinstance(value, dict):
            out.update(value)
        else:
            out[key] = value
    return out or None


def server_error(exc: BaseException) -> Any:
    alerts = current_app.extensions["ledger.alerts"]
    cid = correlation_id()
    log.error("unhandled error on %s %s: %s", request.method, printable(request.path),
              type(exc).__name__, exc_info=exc)
    alerts.server_error(correlation_id=cid, method=request.method, path=request.path,
                        status=500, error=type(exc).__name__)
    return error_body(500, "internal server error"), 500


def database_unavailable(exc: BaseException) -> Any:
    log.error("database unavailable on %s %s: %s", request.method, printable(request.path),
              printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
    current_app.extensions["ledger.alerts"].server_error(
        correlation_id=correlation_id(), method=request.method, path=request.path, status=503,
        error="database unavailable")
    return error_body(503, "the database is unavailable, try again later"), 503, {
        "Retry-After": "5"}


def init_app(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    def on_operational(exc: OperationalError) -> Any:
        if exc.connection_invalidated or _is_connection_problem(exc):
            return database_unavailable(exc)
        return server_error(exc)

    @app.errorhandler(Exception)
    def on_exception(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):  # registered more specifically; kept for safety
            return app.extensions["ledger.api"].handle_http_exception(exc)
        return server_error(exc)


def _is_connection_problem(exc: DBAPIError) -> bool:
    """Client-side connection failures carry no SQLSTATE; the server's are class 08 and 57P0x."""
    state = getattr(exc.orig, "sqlstate", None)
    return state is None or str(state).startswith(("08", "57P01", "57P02", "57P03"))
