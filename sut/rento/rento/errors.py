"""One error format for every 4xx/5xx: ``{"code", "message", "request_id"}`` (+ ``details`` on 422).

Exception texts, tracebacks and SQL never reach a client: they go to the log (redacted), and the
client gets a stable snake_case code plus a human sentence chosen here.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Set

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from rento.logging_setup import request_id_var

log = logging.getLogger("rento.errors")


class ErrorDetail(BaseModel):
    loc: List[str]
    msg: str


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str
    details: Optional[List[ErrorDetail]] = None


class ApiError(Exception):
    """An expected failure with a status, a stable code and a message safe to show."""

    def __init__(
        self, status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what}_not_found", f"{what.replace('_', ' ').capitalize()} not found")


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


# Fixed codes: HTTPStatus phrases change between Python versions (413 and 422 did in 3.13).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


def status_code_name(status: int) -> str:
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _message_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(
    request: Optional[Request],
    status: int,
    code: str,
    message: str,
    details: Optional[List[Dict[str, Any]]] = None,
    headers: Optional[Dict[str, str]] = None,
) -> JSONResponse:
    body: Dict[str, Any] = {"code": code, "message": message, "request_id": request_id_var.get()}
    if details is not None:
        body["details"] = details
    if request is not None:
        # Lets the access log name the error without parsing the body.
        request.state.error_code = code
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> List[Dict[str, Any]]:
    # Only location and message: echoing "input" could reflect secrets or markup back.
    details = []
    for err in exc.errors()[:20]:
        details.append(
            {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))}
        )
    return details


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(request, exc.status, exc.code, exc.message, headers=exc.headers)


def _allowed_methods(request: Request) -> str:
    """All methods of every route matching the path (Starlette reports only the first route's)."""
    methods: Set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = _allowed_methods(request)
    if status == 404:
        message = "The requested resource does not exist"
    elif status == 405:
        message = "Method not allowed on this resource"
    elif isinstance(exc.detail, str) and status < 500:
        message = exc.detail
    else:
        message = _message_for(status)
    return error_response(request, status, status_code_name(status), message, headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return error_response(
        request, 422, "validation_error", "The request is invalid", _validation_details(exc)
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A unique or foreign-key constraint caught a race the explicit checks could not see.
    log.info("integrity conflict", extra={"error_type": type(getattr(exc, "orig", exc)).__name__})
    return error_response(
        request, 409, "conflict", "The request conflicts with the current state of the data"
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    log.info("value rejected by the database", extra={"error_type": type(exc).__name__})
    return error_response(request, 422, "invalid_value", "A value is out of range or malformed")


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning(
        "database unavailable",
        extra={"error_type": type(getattr(exc, "orig", None) or exc).__name__},
    )
    return error_response(
        request,
        503,
        "database_unavailable",
        "The database is temporarily unavailable, retry shortly",
        headers={"Retry-After": "5"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers for expected errors; unhandled ones are caught by the middleware."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)


def error_responses(*statuses: int) -> Dict[Any, Dict[str, Any]]:
    """OpenAPI ``responses=`` entries so that every documented error has the ErrorBody schema.

    503 (database unavailable) can happen anywhere; an operation that validates input (422) can
    also meet a body that is not JSON at all (400).
    """
    documented = set(statuses) | {503}
    if 422 in documented:
        documented.add(400)
    return {
        status: {
            "description": _message_for(status),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        for status in sorted(documented)
    }
