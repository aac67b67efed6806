"""Helpers shared by the resource routers: tenant scoping, pagination, search, partial updates."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Type, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from rento.api.deps import PageParams
from rento.errors import ApiError, not_found
from rento.models import Base, Bill, Building, Contract, Payment, Renter, Room
from rento.schemas import check_text

M = TypeVar("M", bound=Base)


# Every query starts from one of these: filtering on the owning account is what keeps one
# tenant's rows invisible to another (a foreign id behaves exactly like a missing one: 404). Each
# table carries account_id, and the database keeps it equal to the parent's (see rento.models).
def scoped_buildings(account_id: int) -> Select[Any]:
    return select(Building).where(Building.account_id == account_id)


def scoped_rooms(account_id: int) -> Select[Any]:
    return select(Room).where(Room.account_id == account_id)


def scoped_renters(account_id: int) -> Select[Any]:
    return select(Renter).where(Renter.account_id == account_id)


def scoped_contracts(account_id: int) -> Select[Any]:
    return select(Contract).where(Contract.account_id == account_id)


def scoped_bills(account_id: int) -> Select[Any]:
    return select(Bill).where(Bill.account_id == account_id)


def scoped_payments(account_id: int) -> Select[Any]:
    return select(Payment).where(Payment.account_id == account_id)


def get_scoped(
    db: Session, stmt: Select[Any], model: Type[M], obj_id: int, what: str, lock: bool = False
) -> M:
    """The object with this id if the caller's account owns it, else 404."""
    stmt = stmt.where(model.id == obj_id)  # type: ignore[attr-defined]
    if lock:
        stmt = stmt.with_for_update()
    obj = db.scalars(stmt).first()
    if obj is None:
        raise not_found(what)
    return obj


def paginate(db: Session, stmt: Select[Any], model: Type[M], params: PageParams) -> Dict[str, Any]:
    total = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.scalars(
        stmt.order_by(model.id).offset(params.offset).limit(params.page_size)  # type: ignore[attr-defined]
    ).all()
    return {"items": list(rows), "total": total, "page": params.page, "page_size": params.page_size}


def like_pattern(q: str) -> str:
    """A case-insensitive substring pattern with LIKE wildcards in the input escaped."""
    try:
        check_text(q)
    except ValueError as exc:
        raise ApiError(422, "validation_error", f"Parameter q {exc}") from None
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def apply_changes(
    obj: Any, changes: BaseModel, ignore: Optional[List[str]] = None
) -> Dict[str, Any]:
    """Copy the fields the client actually sent onto the ORM object; returns them."""
    sent = changes.model_dump(exclude_unset=True)
    for field in ignore or ():
        sent.pop(field, None)
    not_nullable = [k for k, v in sent.items() if v is None and not _nullable(obj, k)]
    if not_nullable:
        raise ApiError(422, "validation_error", f"Field {not_nullable[0]} cannot be null")
    for key, value in sent.items():
        setattr(obj, key, value)
    return sent


def _nullable(obj: Any, field: str) -> bool:
    column = obj.__table__.columns.get(field)
    return bool(column is not None and column.nullable)
