"""Payments. Staff may record them; correcting or deleting one needs an admin.

A payment locks its bill row, so concurrent payments on one bill are applied one after the other
and the overpayment check cannot be raced.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, Optional

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from rento.api.common import apply_changes, get_scoped, paginate, scoped_bills, scoped_payments
from rento.api.deps import PageParams, Principal, current_user, page_params, require_admin
from rento.api.openapi import crud_links, links
from rento.db import get_db
from rento.errors import conflict, error_responses
from rento.models import Bill, Payment
from rento.schemas import Page, PaymentCreate, PaymentOut, PaymentUpdate

router = APIRouter(prefix="/api/payments", tags=["payments"])
PaymentId = Path(ge=1, le=2_147_483_647)


@router.get("", response_model=Page[PaymentOut], responses=error_responses(401, 422))
def list_payments(
    bill_id: Optional[int] = Query(None, ge=1, le=2_147_483_647),
    params: PageParams = Depends(page_params),
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Dict[str, Any]:
    stmt = scoped_payments(user.account_id)
    if bill_id is not None:
        stmt = stmt.where(Payment.bill_id == bill_id)
    return paginate(db, stmt, Payment, params)


@router.post(
    "",
    status_code=201,
    response_model=PaymentOut,
    responses={
        **error_responses(401, 404, 409, 422),
        **links(params=crud_links("payment", "payment_id")),
    },
)
def create_payment(
    body: PaymentCreate, user: Principal = Depends(current_user), db: Session = Depends(get_db)
) -> Payment:
    bill = get_scoped(db, scoped_bills(user.account_id), Bill, body.bill_id, "bill", lock=True)
    if bill.status == "cancelled":
        raise conflict("bill_cancelled", "A cancelled bill cannot be paid")
    received = bill.received_amount + body.amount
    if received > bill.amount:
        outstanding = bill.amount - bill.received_amount
        # A well-formed payment the bill's current state cannot take: a conflict, like a
        # cancelled bill, not a validation error (the schema cannot know the outstanding amount).
        raise conflict(
            "overpayment", f"Payment exceeds the outstanding amount of {outstanding:.2f}"
        )
    payment = Payment(account_id=bill.account_id, **body.model_dump(exclude_none=True))
    _set_received(bill, received)
    db.add(payment)
    db.commit()
    return payment


@router.get(
    "/{payment_id:int}", response_model=PaymentOut, responses=error_responses(401, 404, 422)
)
def get_payment(
    payment_id: int = PaymentId,
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Payment:
    return get_scoped(db, scoped_payments(user.account_id), Payment, payment_id, "payment")


@router.patch(
    "/{payment_id:int}", response_model=PaymentOut, responses=error_responses(401, 403, 404, 422)
)
def update_payment(
    body: PaymentUpdate,
    payment_id: int = PaymentId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Payment:
    payment = get_scoped(db, scoped_payments(user.account_id), Payment, payment_id, "payment")
    apply_changes(payment, body)
    db.commit()
    return payment


@router.delete(
    "/{payment_id:int}",
    status_code=204,
    response_model=None,
    responses=error_responses(401, 403, 404, 422),
)
def delete_payment(
    payment_id: int = PaymentId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> None:
    """Reverse a payment recorded by mistake: the bill's received amount goes down again."""
    payment = get_scoped(db, scoped_payments(user.account_id), Payment, payment_id, "payment")
    bill = db.scalars(select(Bill).where(Bill.id == payment.bill_id).with_for_update()).one()
    _set_received(bill, bill.received_amount - payment.amount)
    db.delete(payment)
    db.commit()


def _set_received(bill: Bill, received: Decimal) -> None:
    bill.received_amount = received
    if received <= 0:
        bill.status = "pending"
    elif received >= bill.amount:
        bill.status = "paid"
    else:
        bill.status = "partial"
