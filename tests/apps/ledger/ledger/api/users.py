"""Users: administrators create and manage them; everyone may read themselves."""

from __future__ import annotations

import logging
from typing import Any

from flask_smorest import Blueprint, abort
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ledger import db, security
from ledger.models import User
from ledger.schemas import Page, UserCreate, UserList, UserOut, UserUpdate, page_args

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users")
log = logging.getLogger("ledger.users")


@blp.route("/", methods=["GET"])
@security.admin_required
@blp.arguments(Page, location="query")
@blp.response(200, UserList)
def list_users(page: dict[str, Any]) -> dict[str, Any]:
    """Every user (administrators only)."""
    skip, limit = page_args(page)
    session = db.session()
    count = session.scalar(select(func.count()).select_from(User))
    users = session.scalars(select(User).order_by(User.id).offset(skip).limit(limit)).all()
    return {"data": users, "count": count}


@blp.route("/", methods=["POST"])
@security.admin_required
@blp.arguments(UserCreate)
@blp.response(201, UserOut)
def create_user(body: dict[str, Any]) -> User:
    """Create a user (administrators only)."""
    session = db.session()
    email = body["email"].strip().lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        abort(409, message="a user with this e-mail address already exists")
    user = User(email=email, hashed_password=security.hash_password(body["password"]),
                full_name=body.get("full_name"), is_superuser=body["is_superuser"])
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        abort(409, message="a user with this e-mail address already exists")
    log.info("user %s created by %s", user.id, security.current_user().id)
    return user


@blp.route("/me", methods=["GET"])
@security.login_required
@blp.response(200, UserOut)
def read_me() -> User:
    """The logged-in user."""
    return security.current_user()


@blp.route("/<int:user_id>", methods=["GET"])
@security.login_required
@blp.response(200, UserOut)
def read_user(user_id: int) -> User:
    """A user: yourself, or anyone for administrators."""
    me = security.current_user()
    if me.id != user_id and not me.is_superuser:
        abort(403, message="the user doesn't have enough privileges")
    user = db.session().get(User, user_id)
    if user is None:
        abort(404, message="user not found")
    return user  # type: ignore[return-value]


@blp.route("/<int:user_id>", methods=["PATCH"])
@security.admin_required
@blp.arguments(UserUpdate)
@blp.response(200, UserOut)
def update_user(body: dict[str, Any], user_id: int) -> User:
    """Rename, deactivate or promote a user (administrators only)."""
    session = db.session()
    user = session.get(User, user_id)
    if user is None:
        abort(404, message="user not found")
    if user.id == security.current_user().id and (
            body.get("is_active") is False or body.get("is_superuser") is False):
        abort(409, message="administrators cannot lock themselves out")
    for key, value in body.items():
        setattr(user, key, value)
    session.commit()
    return user  # type: ignore[return-value]
