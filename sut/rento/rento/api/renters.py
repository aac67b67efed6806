"""Renters (tenants of rooms; not to be confused with accounts, the tenant organisations)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from fastapi import APIRouter, Depends, Path
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from rento.api.common import apply_changes, get_scoped, like_pattern, paginate, scoped_renters
from rento.api.deps import (
    PageParams,
    Principal,
    current_user,
    page_params,
    require_admin,
    search_param,
)
from rento.api.openapi import crud_links, links
from rento.db import get_db
from rento.errors import conflict, error_responses
from rento.models import Contract, Renter
from rento.schemas import Page, RenterCreate, RenterOut, RenterUpdate

router = APIRouter(prefix="/api/renters", tags=["renters"])
RenterId = Path(ge=1, le=2_147_483_647)


@router.get("", response_model=Page[RenterOut], responses=error_responses(401, 422))
def list_renters(
    q: Optional[str] = search_param(100, "Search in name, phone and email"),
    params: PageParams = Depends(page_params),
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Dict[str, Any]:
    stmt = scoped_renters(user.account_id)
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(
            or_(
                Renter.name.ilike(pattern, escape="\\"),
                Renter.phone.ilike(pattern, escape="\\"),
                Renter.email.ilike(pattern, escape="\\"),
            )
        )
    return paginate(db, stmt, Renter, params)


@router.post(
    "",
    status_code=201,
    response_model=RenterOut,
    responses={
        **error_responses(401, 403, 422),
        **links(
            params={**crud_links("renter", "renter_id"), "list_contracts": "renter_id"},
            bodies={"create_contract": "renter_id"},
        ),
    },
)
def create_renter(
    body: RenterCreate, user: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> Renter:
    renter = Renter(account_id=user.account_id, **body.model_dump())
    db.add(renter)
    db.commit()
    return renter


@router.get("/{renter_id:int}", response_model=RenterOut, responses=error_responses(401, 404, 422))
def get_renter(
    renter_id: int = RenterId,
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Renter:
    return get_scoped(db, scoped_renters(user.account_id), Renter, renter_id, "renter")


@router.patch(
    "/{renter_id:int}", response_model=RenterOut, responses=error_responses(401, 403, 404, 422)
)
def update_renter(
    body: RenterUpdate,
    renter_id: int = RenterId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Renter:
    renter = get_scoped(db, scoped_renters(user.account_id), Renter, renter_id, "renter")
    apply_changes(renter, body)
    db.commit()
    return renter


@router.delete(
    "/{renter_id:int}",
    status_code=204,
    response_model=None,
    responses=error_responses(401, 403, 404, 409, 422),
)
def delete_renter(
    renter_id: int = RenterId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> None:
    renter = get_scoped(db, scoped_renters(user.account_id), Renter, renter_id, "renter", lock=True)
    if db.scalar(select(exists().where(Contract.renter_id == renter.id))):
        raise conflict("renter_has_contracts", "A renter with contracts cannot be deleted")
    db.delete(renter)
    db.commit()
