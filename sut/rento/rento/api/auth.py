"""Login, users of an account, and creation of new accounts (tenant organisations)."""

from __future__ import annotations

import logging
from typing import Any, Dict

from fastapi import APIRouter, Depends, Path
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from rento.api.common import apply_changes, paginate
from rento.api.deps import PageParams, Principal, current_user, page_params, require_admin
from rento.api.openapi import crud_links, links
from rento.config import get_settings
from rento.db import get_db
from rento.errors import ApiError, conflict, error_responses, not_found
from rento.models import Account, User
from rento.schemas import (
    AccountCreate,
    AccountCreated,
    LoginRequest,
    Page,
    TokenResponse,
    UserCreate,
    UserOut,
    UserUpdate,
)
from rento.security import burn_password_check, hash_password, issue_token, verify_password

log = logging.getLogger("rento.auth")
router = APIRouter(tags=["auth"])
UserId = Path(ge=1, le=2_147_483_647)

# Accounts are created by administrators of the operator's own account (the bootstrap one).
PLATFORM_ACCOUNT_ID = 1


@router.post("/api/auth/login", response_model=TokenResponse, responses=error_responses(401, 422))
def login(body: LoginRequest, db: Session = Depends(get_db)) -> Dict[str, Any]:
    user = db.scalars(select(User).where(User.username == body.username)).first()
    if user is None:
        burn_password_check(body.password)
        ok = False
    else:
        ok = verify_password(body.password, user.password_hash) and user.is_active
    if not ok or user is None:
        log.info("login failed")
        raise ApiError(
            401,
            "invalid_credentials",
            "Invalid username or password",
            {"WWW-Authenticate": "Bearer"},
        )
    settings = get_settings()
    token = issue_token(settings.secret_key, user.id, user.account_id, settings.token_ttl_seconds)
    log.info("login succeeded", extra={"user_id": user.id, "account_id": user.account_id})
    return {
        "access_token": token,
        "token_type": "bearer",
        "role": user.role,
        "expires_in": settings.token_ttl_seconds,
    }


@router.get("/api/users/me", response_model=UserOut, tags=["users"], responses=error_responses(401))
def me(user: Principal = Depends(current_user), db: Session = Depends(get_db)) -> User:
    found = db.get(User, user.user_id)
    if found is None:
        raise not_found("user")
    return found


@router.get(
    "/api/users",
    response_model=Page[UserOut],
    tags=["users"],
    responses=error_responses(401, 403, 422),
)
def list_users(
    params: PageParams = Depends(page_params),
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Dict[str, Any]:
    return paginate(db, select(User).where(User.account_id == user.account_id), User, params)


@router.post(
    "/api/users",
    status_code=201,
    response_model=UserOut,
    tags=["users"],
    responses={
        **error_responses(401, 403, 409, 422),
        **links(params=crud_links("user", "user_id")),
    },
)
def create_user(
    body: UserCreate, admin: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> User:
    _ensure_username_free(db, body.username)
    user = User(
        account_id=admin.account_id,
        username=body.username,
        password_hash=hash_password(body.password),
        role=body.role,
        is_active=True,
    )
    db.add(user)
    db.commit()
    log.info("user created", extra={"user_id": user.id, "role": user.role})
    return user


@router.get(
    "/api/users/{user_id:int}",
    response_model=UserOut,
    tags=["users"],
    responses=error_responses(401, 403, 404, 422),
)
def get_user(
    user_id: int = UserId, admin: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> User:
    return _own_user(db, admin, user_id)


@router.patch(
    "/api/users/{user_id:int}",
    response_model=UserOut,
    tags=["users"],
    responses=error_responses(401, 403, 404, 409, 422),
)
def update_user(
    body: UserUpdate,
    user_id: int = UserId,
    admin: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> User:
    target = _own_user(db, admin, user_id)
    if target.id == admin.user_id and (body.role == "staff" or body.is_active is False):
        raise conflict("cannot_demote_self", "Administrators cannot demote or disable themselves")
    password = body.password
    apply_changes(target, body, ignore=["password"])
    if password is not None:
        target.password_hash = hash_password(password)
    db.commit()
    return target


@router.delete(
    "/api/users/{user_id:int}",
    status_code=204,
    response_model=None,
    tags=["users"],
    responses=error_responses(401, 403, 404, 409, 422),
)
def delete_user(
    user_id: int = UserId, admin: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> None:
    target = _own_user(db, admin, user_id)
    if target.id == admin.user_id:
        raise conflict("cannot_delete_self", "Administrators cannot delete themselves")
    db.delete(target)
    db.commit()


@router.post(
    "/api/accounts",
    status_code=201,
    response_model=AccountCreated,
    tags=["accounts"],
    responses=error_responses(401, 403, 409, 422),
)
def create_account(
    body: AccountCreate, admin: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> Dict[str, Any]:
    """Create a tenant organisation and its first administrator (platform administrators only)."""
    if admin.account_id != PLATFORM_ACCOUNT_ID:
        raise ApiError(403, "forbidden", "Only platform administrators can create accounts")
    _ensure_username_free(db, body.admin_username)
    account = Account(name=body.name)
    db.add(account)
    db.flush()
    user = User(
        account_id=account.id,
        username=body.admin_username,
        password_hash=hash_password(body.admin_password),
        role="admin",
        is_active=True,
    )
    db.add(user)
    db.commit()
    log.info("account created", extra={"account_id": account.id, "admin_user_id": user.id})
    return {
        "account_id": account.id,
        "name": account.name,
        "admin_user_id": user.id,
        "admin_username": user.username,
    }


def _own_user(db: Session, admin: Principal, user_id: int) -> User:
    user = db.scalars(
        select(User).where(User.id == user_id, User.account_id == admin.account_id)
    ).first()
    if user is None:
        raise not_found("user")
    return user


def _ensure_username_free(db: Session, username: str) -> None:
    if db.scalar(select(exists().where(User.username == username))):
        raise conflict("username_taken", "This username is already in use")
