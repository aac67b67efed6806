"""Dashboard figures for the caller's account, computed by the database in one statement.

Definitions (exact, so that clients can reconcile them with their own data):

* ``occupied_rooms`` / ``vacant_rooms``: rooms with that status; rooms under maintenance count in
  ``rooms`` only. ``occupancy_rate`` = occupied / rooms, rounded to 4 decimals (0 without rooms).
* ``active_contracts``: contracts with status ``active``.
* ``bills.pending_*``: bills with status ``pending`` (count, sum of ``amount``);
  ``bills.paid_*``: bills with status ``paid``; ``bills.overdue_count``: status ``overdue``.
* ``received_total``: sum of all payments.

Each table is read once (aggregates with ``FILTER``) through its ``(account_id, id)`` index; the
one-row results are joined side by side, so the figures come from a single snapshot.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Dict

from fastapi import APIRouter, Depends
from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from rento.api.deps import Principal, current_user
from rento.db import get_db
from rento.errors import error_responses
from rento.models import Bill, Building, Contract, Payment, Renter, Room
from rento.schemas import DashboardStats

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


def _money(value: Any) -> str:
    return f"{Decimal(value or 0):.2f}"


def _count_where(condition: Any) -> Any:
    return func.count().filter(condition)


def _sum_where(column: Any, condition: Any) -> Any:
    return func.coalesce(func.sum(column).filter(condition), 0)


@router.get("/stats", response_model=DashboardStats, responses=error_responses(401))
def stats(user: Principal = Depends(current_user), db: Session = Depends(get_db)) -> Dict[str, Any]:
    acc = user.account_id

    def figures(model: Any, **columns: Any) -> Any:
        """One pass over the account's rows of ``model``: a one-row subquery of aggregates."""
        labelled = (expr.label(name) for name, expr in columns.items())
        return select(*labelled).where(model.account_id == acc).subquery()

    pending, paid = Bill.status == "pending", Bill.status == "paid"
    parts = [
        figures(Building, buildings=func.count()),
        figures(
            Room,
            rooms=func.count(),
            occupied=_count_where(Room.status == "occupied"),
            vacant=_count_where(Room.status == "vacant"),
        ),
        figures(Renter, renters=func.count()),
        figures(Contract, active_contracts=_count_where(Contract.status == "active")),
        figures(
            Bill,
            pending_count=_count_where(pending),
            pending_amount=_sum_where(Bill.amount, pending),
            paid_count=_count_where(paid),
            paid_amount=_sum_where(Bill.amount, paid),
            overdue_count=_count_where(Bill.status == "overdue"),
        ),
        figures(Payment, received_total=func.coalesce(func.sum(Payment.amount), 0)),
    ]
    # Every part is exactly one row, so joining them on TRUE gives the one row of figures.
    row = db.execute(select(functools.reduce(lambda a, b: a.join(b, true()), parts))).one()
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
