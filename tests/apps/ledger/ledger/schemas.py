"""Request and response bodies. Unknown JSON fields are refused (422), never ignored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class ErrorSchema(ma.Schema):
    error = fields.String(metadata={"description": "machine-readable error code"})
    detail = fields.String(metadata={"description": "what went wrong, for people"})
    correlation_id = fields.String(metadata={"description": "the request's X-Correlation-ID"})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "invalid input by field"})


class LoginForm(ma.Schema):
    """OAuth2 password grant (RFC 6749 §4.3), form-encoded."""

    class Meta:
        unknown = ma.EXCLUDE

    grant_type = fields.String(validate=validate.Equal("password"))
    username = fields.String(required=True, validate=validate.Length(1, 255))
    password = fields.String(required=True, validate=validate.Length(1, 128))
    scope = fields.String()
    client_id = fields.String()
    client_secret = fields.String()


class TokenData(ma.Schema):
    token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class TokenAnswer(ma.Schema):
    data = fields.Nested(TokenData)


class Page(StrictSchema):
    skip = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class UserOut(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String(allow_none=True)
    is_active = fields.Boolean()
    is_superuser = fields.Boolean()
    created_at = fields.DateTime()


class UserCreate(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=255))
    password = fields.String(required=True, load_only=True, validate=validate.Length(8, 128))
    full_name = fields.String(allow_none=True, validate=validate.Length(max=255))
    is_superuser = fields.Boolean(load_default=False)


class UserUpdate(StrictSchema):
    full_name = fields.String(allow_none=True, validate=validate.Length(max=255))
    is_active = fields.Boolean()
    is_superuser = fields.Boolean()


class UserList(ma.Schema):
    data = fields.List(fields.Nested(UserOut))
    count = fields.Integer()


class LedgerOut(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    currency = fields.String()
    created_at = fields.DateTime()


class LedgerCreate(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    currency = fields.String(load_default="EUR", validate=validate.Regexp(r"^[A-Z]{3}$"))


class LedgerUpdate(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 120))


class LedgerList(ma.Schema):
    data = fields.List(fields.Nested(LedgerOut))
    count = fields.Integer()


def _valid_amount(value: Decimal) -> None:
    if not value.is_finite():
        raise ma.ValidationError("must be a finite number")
    if value == 0:
        raise ma.ValidationError("must not be zero")
    if value != value.quantize(CENT):
        raise ma.ValidationError("at most two decimal places")
    if abs(value) > MAX_AMOUNT:
        raise ma.ValidationError(f"must be between -{MAX_AMOUNT} and {MAX_AMOUNT}")


class EntryOut(ma.Schema):
    id = fields.Integer()
    ledger_id = fields.Integer()
    amount = fields.Decimal(as_string=True, places=2)
    description = fields.String()
    booked_on = fields.Date()
    created_at = fields.DateTime()


class EntryCreate(StrictSchema):
    amount = fields.Decimal(required=True, validate=_valid_amount,
                            metadata={"description": "signed: credits > 0, debits < 0"})
    description = fields.String(required=True, validate=validate.Length(1, 200))
    booked_on = fields.Date(required=True)


class EntryList(ma.Schema):
    data = fields.List(fields.Nested(EntryOut))
    count = fields.Integer()


class BalanceOut(ma.Schema):
    ledger_id = fields.Integer()
    currency = fields.String()
    balance = fields.Decimal(as_string=True, places=2)
    credits = fields.Decimal(as_string=True, places=2)
    debits = fields.Decimal(as_string=True, places=2)
    entries = fields.Integer()


class HealthOut(ma.Schema):
    status = fields.String()
    version = fields.String()
    uptime_seconds = fields.Float()
    memory = fields.Dict()
    checks = fields.Dict()


def page_args(args: dict[str, Any]) -> tuple[int, int]:
    return int(args["skip"]), int(args["limit"])
