"""OAuth2 password-flow login: a form-encoded body, the token answered under ``data``."""

from __future__ import annotations

import logging
from typing import Any

from flask_smorest import Blueprint, abort

from ledger import security
from ledger.schemas import LoginForm, TokenAnswer

blp = Blueprint("login", __name__, url_prefix="/api/v1/login", description="Sessions")
log = logging.getLogger("ledger.auth")


@blp.route("/access-token", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(LoginForm, location="form")
@blp.response(200, TokenAnswer)
def access_token(form: dict[str, Any]) -> dict[str, Any]:
    """Exchange an e-mail address and password for a bearer token."""
    user = security.authenticate(form["username"], form["password"])
    if user is None or not user.is_active:
        log.warning("failed login")
        abort(400, message="incorrect e-mail or password", code="invalid_grant")
    token, expires_in = security.create_token(user)
    log.info("user %s logged in", user.id)
    return {"data": {"token": token, "token_type": "bearer", "expires_in": expires_in}}
