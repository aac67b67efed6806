"""Bills. ``received_amount`` and the statuses paid/partial are driven by payments only."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, Dict, Optional

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from rento.api.common import (
    apply_changes,
    get_scoped,
    like_pattern,
    paginate,
    scoped_bills,
    scoped_contracts,
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
from rento.db import get_db
from rento.errors import ApiError, conflict, error_responses
from rento.models import Bill, Contract, Payment
from rento.schemas import BillCreate, BillOut, BillStatus, BillType, BillUpdate, Date, Page

router = APIRouter(prefix="/api/bills", tags=["bills"])
BillId = Path(ge=1, le=2_147_483_647)


@router.get("", response_model=Page[BillOut], responses=error_responses(401, 422))
def list_bills(
    status: Optional[BillStatus] = Query(None),
    type: Optional[BillType] = Query(None),
    contract_id: Optional[int] = Query(None, ge=1, le=2_147_483_647),
    due_before: Optional[Date] = Query(None, description="Due on or before this date"),
    due_after: Optional[Date] = Query(None, description="Due on or after this date"),
    q: Optional[str] = search_param(64, "Search in bill number"),
    params: PageParams = Depends(page_params),
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Dict[str, Any]:
    stmt = scoped_bills(user.account_id)
    if status is not None:
        stmt = stmt.where(Bill.status == status)
    if type is not None:
        stmt = stmt.where(Bill.type == type)
    if contract_id is not None:
        stmt = stmt.where(Bill.contract_id == contract_id)
    if due_before is not None:
        stmt = stmt.where(Bill.due_date <= due_before)
    if due_after is not None:
        stmt = stmt.where(Bill.due_date >= due_after)
    if q:
        stmt = stmt.where(Bill.bill_number.ilike(like_pattern(q), escape="\\"))
    return paginate(db, stmt, Bill, params)


@router.post(
    "",
    status_code=201,
    response_model=BillOut,
    responses={
        **error_responses(401, 403, 404, 409, 422),
        **links(
            params={**crud_links("bill", "bill_id"), "list_payments": "bill_id"},
            bodies={"create_payment": "bill_id"},
        ),
    },
)
def create_bill(
    body: BillCreate, user: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> Bill:
    _check_period(body.period_start, body.period_end)
    contract = get_scoped(
        db, scoped_contracts(user.account_id), Contract, body.contract_id, "contract"
    )
    number = body.bill_number or f"B{dt.date.today():%Y%m%d}-{secrets.token_hex(4).upper()}"
    if db.scalar(select(exists().where(Bill.bill_number == number))):
        raise conflict("bill_number_taken", "This bill number is already in use")
    bill = Bill(
        **body.model_dump(exclude={"bill_number"}),
        account_id=contract.account_id,
        bill_number=number,
        received_amount=0,
        status="pending",
    )
    db.add(bill)
    db.commit()
    return bill


@router.get("/{bill_id:int}", response_model=BillOut, responses=error_responses(401, 404, 422))
def get_bill(
    bill_id: int = BillId, user: Principal = Depends(current_user), db: Session = Depends(get_db)
) -> Bill:
    return get_scoped(db, scoped_bills(user.account_id), Bill, bill_id, "bill")


@router.patch(
    "/{bill_id:int}", response_model=BillOut, responses=error_responses(401, 403, 404, 409, 422)
)
def update_bill(
    body: BillUpdate,
    bill_id: int = BillId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Bill:
    bill = get_scoped(db, scoped_bills(user.account_id), Bill, bill_id, "bill", lock=True)
    if body.status is not None and bill.received_amount > 0:
        raise conflict("bill_has_payments", "The status of a bill with payments follows them")
    if body.amount is not None and body.amount < bill.received_amount:
        raise conflict("amount_below_received", "Amount cannot be less than what was received")
    sent = body.model_dump(exclude_unset=True)
    _check_period(
        sent.get("period_start", bill.period_start), sent.get("period_end", bill.period_end)
    )
    apply_changes(bill, body)
    if bill.received_amount > 0:
        bill.status = "paid" if bill.received_amount >= bill.amount else "partial"
    db.commit()
    return bill


@router.delete(
    "/{bill_id:int}",
    status_code=204,
    response_model=None,
    responses=error_responses(401, 403, 404, 409, 422),
)
def delete_bill(
    bill_id: int = BillId, user: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> None:
    bill = get_scoped(db, scoped_bills(user.account_id), Bill, bill_id, "bill", lock=True)
    if db.scalar(select(exists().where(Payment.bill_id == bill.id))):
        raise conflict("bill_has_payments", "A bill with payments cannot be deleted")
    db.delete(bill)
    db.commit()


def _check_period(start: Optional[dt.date], end: Optional[dt.date]) -> None:
    if start is not None and end is not None and end < start:
        raise ApiError(422, "validation_error", "period_end must not be before period_start")
