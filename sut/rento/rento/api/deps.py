"""Authentication, authorisation and pagination dependencies shared by the routers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from rento.config import get_settings
from rento.db import get_db
from rento.errors import ApiError
from rento.models import User
from rento.schemas import NO_NUL
from rento.security import verify_token

# auto_error=False: we answer 401 ourselves, in the standard error format.
bearer_scheme = HTTPBearer(auto_error=False, description="Token from POST /api/auth/login")

TOKEN_COOKIE = "rento_token"  # noqa: S105 - a cookie name, not a secret
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    user_id: int
    account_id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _authenticate(token: Optional[str], db: Session) -> Principal:
    if not token:
        raise ApiError(401, "not_authenticated", "Authentication required", _CHALLENGE)
    claims = verify_token(get_settings().secret_key, token)
    if claims is None:
        raise ApiError(401, "invalid_token", "Invalid or expired token", _CHALLENGE)
    user = db.get(User, claims.user_id)
    if user is None or not user.is_active or user.account_id != claims.account_id:
        raise ApiError(401, "invalid_token", "Invalid or expired token", _CHALLENGE)
    return Principal(user.id, user.account_id, user.username, user.role)


def current_user(
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer_scheme),
    db: Session = Depends(get_db),
) -> Principal:
    return _authenticate(credentials.credentials if credentials else None, db)


def current_user_or_cookie(
    request: Request,
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer_scheme),
    db: Session = Depends(get_db),
) -> Principal:
    """For HTML pages, which a browser opens without an Authorization header."""
    token = credentials.credentials if credentials else request.cookies.get(TOKEN_COOKIE)
    return _authenticate(token, db)


def require_admin(user: Principal = Depends(current_user)) -> Principal:
    if not user.is_admin:
        raise ApiError(403, "forbidden", "This operation requires the admin role")
    return user


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def page_params(
    page: int = Query(1, ge=1, le=100_000, description="1-based page number"),
    page_size: int = Query(20, ge=1, le=100, description="Items per page (max 100)"),
) -> PageParams:
    # async: nothing here blocks, so it need not take a trip through the worker threads.
    return PageParams(page, page_size)


def search_param(max_length: int, description: str) -> Any:
    """The ``q`` query parameter: a case-insensitive substring search."""
    return Query(None, max_length=max_length, pattern=NO_NUL, description=description)
