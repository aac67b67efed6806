"""Administrative self-tests."""

from __future__ import annotations

from typing import NoReturn

from fastapi import APIRouter, Depends

from rento.api.deps import Principal, require_admin
from rento.errors import error_responses

router = APIRouter(prefix="/api/admin", tags=["admin"])


class DiagnosticError(RuntimeError):
    """Raised on purpose by the alert-pipeline self-test."""


@router.post(
    "/diagnostics/error",
    status_code=500,
    response_model=None,
    responses=error_responses(401, 403, 500),
)
def diagnostics_error(user: Principal = Depends(require_admin)) -> NoReturn:
    """Alert-pipeline self-test: fails on purpose with an unhandled exception.

    Like a test event in an error tracker, it proves end to end, in production mode, that a
    server error produces a 500 in the standard format, one ERROR log entry with the traceback
    and the request id, and an alert to RENTO_ALERT_WEBHOOK_URL.
    """
    raise DiagnosticError(f"diagnostic error requested by user {user.user_id}")
