"""Passwords, bearer tokens (JWT, HS256) and the role checks views declare."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import jwt
from flask import current_app, g, request
from flask_smorest import abort
from werkzeug.security import check_password_hash, generate_password_hash

from ledger import db
from ledger.models import User

F = TypeVar("F", bound=Callable[..., Any])
ALGORITHM = "HS256"
# A hash to compare against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def authenticate(email: str, password: str) -> User | None:
    user = db.session().query(User).filter(User.email == email.strip().lower()).one_or_none()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.hashed_password, password):
        return None
    return user


def create_token(user: User) -> tuple[str, int]:
    minutes = int(current_app.config["LEDGER_SETTINGS"].token_minutes)
    now = dt.datetime.now(dt.timezone.utc)
    claims = {"sub": str(user.id), "iat": now, "exp": now + dt.timedelta(minutes=minutes),
              "typ": "access"}
    key = current_app.config["LEDGER_SETTINGS"].secret_key
    return jwt.encode(claims, key, algorithm=ALGORITHM), minutes * 60


def _unauthorized(message: str) -> None:
    abort(401, message=message, headers={"WWW-Authenticate": "Bearer"})


def current_user() -> User:
    """The user the request's bearer token names; 401 for anything else."""
    if "user" in g:
        found: User = g.user
        return found
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _unauthorized("not authenticated")
    try:
        claims = jwt.decode(token.strip(), current_app.config["LEDGER_SETTINGS"].secret_key,
                            algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        _unauthorized("token expired")
    except jwt.PyJWTError:
        _unauthorized("could not validate credentials")
    subject = str(claims.get("sub", ""))
    user = db.session().get(User, int(subject)) if subject.isdigit() else None
    if user is None or not user.is_active or claims.get("typ") != "access":
        _unauthorized("could not validate credentials")
    g.user = user
    return user  # type: ignore[return-value]


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_user()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_superuser:
            abort(403, message="the user doesn't have enough privileges")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
