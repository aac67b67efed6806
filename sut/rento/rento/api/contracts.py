"""Contracts tie a renter to a room for a term; they drive room occupancy and rent bills.

Room occupancy changes under a row lock on the room (SELECT ... FOR UPDATE), so two concurrent
contracts for one room cannot both succeed: the second sees the room occupied and gets 409.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, Dict, Optional

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from rento.api.common import (
    apply_changes,
    get_scoped,
    like_pattern,
    paginate,
    scoped_contracts,
    scoped_renters,
    scoped_rooms,
)
from rento.api.deps import (
    PageParams,
    Principal,
    current_user,
    page_params,
    require_admin,
    search_param,
)
from rento.api.openapi import crud_links, links
from rento.billing import due_date, next_periods
from rento.db import get_db
from rento.errors import ApiError, conflict, error_responses
from rento.models import Bill, Contract, Renter, Room
from rento.schemas import (
    ContractCreate,
    ContractOut,
    ContractStatus,
    ContractUpdate,
    GenerateBills,
    GeneratedBills,
    Page,
)

router = APIRouter(prefix="/api/contracts", tags=["contracts"])
ContractId = Path(ge=1, le=2_147_483_647)

OPEN_STATUSES = ("active", "pending")
# Allowed status changes; terminated and expired are final.
TRANSITIONS = {
    "pending": {"pending", "active", "terminated"},
    "active": {"active", "terminated", "expired"},
}


@router.get("", response_model=Page[ContractOut], responses=error_responses(401, 422))
def list_contracts(
    status: Optional[ContractStatus] = Query(None),
    room_id: Optional[int] = Query(None, ge=1, le=2_147_483_647),
    renter_id: Optional[int] = Query(None, ge=1, le=2_147_483_647),
    q: Optional[str] = search_param(64, "Search in contract number"),
    params: PageParams = Depends(page_params),
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Dict[str, Any]:
    stmt = scoped_contracts(user.account_id)
    if status is not None:
        stmt = stmt.where(Contract.status == status)
    if room_id is not None:
        stmt = stmt.where(Contract.room_id == room_id)
    if renter_id is not None:
        stmt = stmt.where(Contract.renter_id == renter_id)
    if q:
        stmt = stmt.where(Contract.contract_number.ilike(like_pattern(q), escape="\\"))
    return paginate(db, stmt, Contract, params)


@router.post(
    "",
    status_code=201,
    response_model=ContractOut,
    responses={
        **error_responses(401, 403, 404, 409, 422),
        **links(
            params={
                **crud_links("contract", "contract_id"),
                "generate_bills": "contract_id",
                "list_bills": "contract_id",
            },
            bodies={"create_bill": "contract_id"},
        ),
    },
)
def create_contract(
    body: ContractCreate, user: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> Contract:
    if body.end_date < body.start_date:
        raise ApiError(422, "validation_error", "end_date must not be before start_date")
    room = get_scoped(db, scoped_rooms(user.account_id), Room, body.room_id, "room", lock=True)
    get_scoped(db, scoped_renters(user.account_id), Renter, body.renter_id, "renter")
    if room.status == "occupied":
        raise conflict("room_occupied", "The room already has an open contract")
    if room.status != "vacant":
        raise conflict("room_unavailable", "The room is under maintenance")
    number = body.contract_number or _new_number("C", body.start_date)
    if db.scalar(select(exists().where(Contract.contract_number == number))):
        raise conflict("contract_number_taken", "This contract number is already in use")
    contract = Contract(
        account_id=room.account_id,
        room_id=room.id,
        renter_id=body.renter_id,
        contract_number=number,
        start_date=body.start_date,
        end_date=body.end_date,
        monthly_rent=body.monthly_rent if body.monthly_rent is not None else room.rent,
        deposit=body.deposit if body.deposit is not None else room.deposit,
        payment_day=body.payment_day or body.start_date.day,
        status=body.status,
    )
    room.status = "occupied"
    db.add(contract)
    db.commit()
    return contract


@router.get(
    "/{contract_id:int}", response_model=ContractOut, responses=error_responses(401, 404, 422)
)
def get_contract(
    contract_id: int = ContractId,
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Contract:
    return get_scoped(db, scoped_contracts(user.account_id), Contract, contract_id, "contract")


@router.patch(
    "/{contract_id:int}",
    response_model=ContractOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def update_contract(
    body: ContractUpdate,
    contract_id: int = ContractId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Contract:
    contract = _locked_contract(db, user, contract_id)
    if contract.status not in TRANSITIONS:
        raise conflict("contract_closed", f"A {contract.status} contract cannot be changed")
    if body.status is not None and body.status not in TRANSITIONS[contract.status]:
        raise conflict(
            "invalid_status_transition",
            f"A {contract.status} contract cannot become {body.status}",
        )
    if body.end_date is not None and body.end_date < contract.start_date:
        raise ApiError(422, "validation_error", "end_date must not be before start_date")
    apply_changes(contract, body)
    if contract.status not in OPEN_STATUSES:
        _free_room(db, contract.room_id)
    db.commit()
    return contract


@router.delete(
    "/{contract_id:int}",
    status_code=204,
    response_model=None,
    responses=error_responses(401, 403, 404, 409, 422),
)
def delete_contract(
    contract_id: int = ContractId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> None:
    contract = _locked_contract(db, user, contract_id)
    if db.scalar(select(exists().where(Bill.contract_id == contract.id))):
        raise conflict("contract_has_bills", "A contract with bills cannot be deleted")
    if contract.status in OPEN_STATUSES:
        _free_room(db, contract.room_id)
    db.delete(contract)
    db.commit()


@router.post(
    "/{contract_id:int}/bills/generate",
    status_code=201,
    response_model=GeneratedBills,
    responses={
        **error_responses(401, 403, 404, 409, 422),
        **links(
            params={"get_bill": "bill_id", "update_bill": "bill_id", "list_payments": "bill_id"},
            bodies={"create_payment": "bill_id"},
            source="$response.body#/items/0/id",
        ),
    },
)
def generate_bills(
    body: GenerateBills,
    contract_id: int = ContractId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Dict[str, Any]:
    """Create the next ``months`` monthly rent bills (amount = monthly rent).

    Periods continue after the last rent bill already generated for the contract and must lie
    within the contract term; otherwise nothing is created and the answer is 409.
    """
    contract = _locked_contract(db, user, contract_id)
    if contract.status != "active":
        raise conflict("contract_not_active", "Bills are generated for active contracts only")
    last_end = db.scalar(
        select(func.max(Bill.period_end)).where(
            Bill.contract_id == contract.id, Bill.type == "rent"
        )
    )
    try:
        periods = next_periods(contract.start_date, contract.end_date, last_end, body.months)
    except ValueError:
        periods = None
    if periods is None:
        raise conflict(
            "contract_term_exceeded", "The contract term has fewer months left than requested"
        )
    bills = [
        Bill(
            account_id=contract.account_id,
            contract_id=contract.id,
            bill_number=f"R{contract.id}-{start:%Y%m%d}",
            type="rent",
            amount=contract.monthly_rent,
            received_amount=0,
            period_start=start,
            period_end=end,
            due_date=due_date(start, contract.payment_day),
            status="pending",
        )
        for start, end in periods
    ]
    db.add_all(bills)
    db.commit()
    return {"items": bills, "total": len(bills)}


def _locked_contract(db: Session, user: Principal, contract_id: int) -> Contract:
    return get_scoped(
        db, scoped_contracts(user.account_id), Contract, contract_id, "contract", lock=True
    )


def _free_room(db: Session, room_id: int) -> None:
    room = db.scalars(select(Room).where(Room.id == room_id).with_for_update()).one()
    room.status = "vacant"


def _new_number(prefix: str, day: dt.date) -> str:
    return f"{prefix}{day:%Y%m%d}-{secrets.token_hex(4).upper()}"
