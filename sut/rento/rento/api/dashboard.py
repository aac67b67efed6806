"""Dashboard figures for the caller's account, computed by the database in one statement.

Definitions (exact, so that clients can reconcile them with their own data):

* ``occupied_rooms`` / ``vacant_rooms``: rooms with that status; rooms under maintenance count in
  ``rooms`` only. ``occupancy_rate`` = occupied / rooms, rounded to 4 decimals (0 without rooms).
* ``active_contracts``: contracts with status ``active``.
* ``bills.pending_*``: bills with status ``pending`` (count, sum of ``amount``);
  ``bills.paid_*``: bills with status ``paid``; ``bills.overdue_count``: status ``overdue``.
* ``received_total``: sum of all payments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict

from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rento.api.deps import Principal, current_user
from rento.db import get_db
from rento.errors import error_responses
from rento.models import Bill, Building, Contract, Payment, Renter, Room
from rento.schemas import DashboardStats

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


def _money(value: Any) -> str:
    return f"{Decimal(value or 0):.2f}"


@router.get("/stats", response_model=DashboardStats, responses=error_responses(401))
def stats(user: Principal = Depends(current_user), db: Session = Depends(get_db)) -> Dict[str, Any]:
    acc = user.account_id
    owned_rooms = select(Room.id).join(Building).where(Building.account_id == acc)
    owned_contracts = select(Contract.id).where(Contract.room_id.in_(owned_rooms))
    owned_bills = select(Bill.id).where(Bill.contract_id.in_(owned_contracts))

    def count(model: Any, *where: Any) -> Any:
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    def total(column: Any, *where: Any) -> Any:
        return select(func.coalesce(func.sum(column), 0)).where(*where).scalar_subquery()

    row = db.execute(
        select(
            count(Building, Building.account_id == acc).label("buildings"),
            count(Room, Room.id.in_(owned_rooms)).label("rooms"),
            count(Room, Room.id.in_(owned_rooms), Room.status == "occupied").label("occupied"),
            count(Room, Room.id.in_(owned_rooms), Room.status == "vacant").label("vacant"),
            count(Renter, Renter.account_id == acc).label("renters"),
            count(Contract, Contract.id.in_(owned_contracts), Contract.status == "active").label(
                "active_contracts"
            ),
            count(Bill, Bill.id.in_(owned_bills), Bill.status == "pending").label("pending_count"),
            total(Bill.amount, Bill.id.in_(owned_bills), Bill.status == "pending").label(
                "pending_amount"
            ),
            count(Bill, Bill.id.in_(owned_bills), Bill.status == "paid").label("paid_count"),
            total(Bill.amount, Bill.id.in_(owned_bills), Bill.status == "paid").label(
                "paid_amount"
            ),
            count(Bill, Bill.id.in_(owned_bills), Bill.status == "overdue").label("overdue_count"),
            total(Payment.amount, Payment.bill_id.in_(owned_bills)).label("received_total"),
        )
    ).one()
    rooms = row.rooms or 0
    return {
        "buildings": row.buildings,
        "rooms": rooms,
        "occupied_rooms": row.occupied,
        "vacant_rooms": row.vacant,
        "occupancy_rate": round(row.occupied / rooms, 4) if rooms else 0.0,
        "renters": row.renters,
        "active_contracts": row.active_contracts,
        "bills": {
            "pending_count": row.pending_count,
            "pending_amount": _money(row.pending_amount),
            "paid_count": row.paid_count,
            "paid_amount": _money(row.paid_amount),
            "overdue_count": row.overdue_count,
        },
        "received_total": _money(row.received_total),
    }
