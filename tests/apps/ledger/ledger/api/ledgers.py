"""Ledgers and their entries. A ledger belongs to one user: anyone else gets 404, admins too."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from flask_smorest import Blueprint, abort
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from ledger import db, security
from ledger.models import Entry, Ledger
from ledger.schemas import (
    BalanceOut,
    EntryCreate,
    EntryList,
    EntryOut,
    LedgerCreate,
    LedgerList,
    LedgerOut,
    LedgerUpdate,
    Page,
    page_args,
)

blp = Blueprint("ledgers", __name__, url_prefix="/api/v1/ledgers", description="Ledgers")
log = logging.getLogger("ledger.ledgers")
ZERO = Decimal("0.00")


def _own_ledger(ledger_id: int) -> Ledger:
    ledger = db.session().scalar(select(Ledger).where(
        Ledger.id == ledger_id, Ledger.owner_id == security.current_user().id))
    if ledger is None:
        abort(404, message="ledger not found")
    return ledger  # type: ignore[return-value]


def _commit_or_conflict(message: str) -> None:
    try:
        db.session().commit()
    except IntegrityError:
        db.session().rollback()
        abort(409, message=message)


@blp.route("/", methods=["GET"])
@security.login_required
@blp.arguments(Page, location="query")
@blp.response(200, LedgerList)
def list_ledgers(page: dict[str, Any]) -> dict[str, Any]:
    """Your ledgers."""
    skip, limit = page_args(page)
    owner = security.current_user().id
    session = db.session()
    count = session.scalar(select(func.count()).where(Ledger.owner_id == owner))
    rows = session.scalars(select(Ledger).where(Ledger.owner_id == owner).order_by(Ledger.id)
                           .offset(skip).limit(limit)).all()
    return {"data": rows, "count": count}


@blp.route("/", methods=["POST"])
@security.login_required
@blp.arguments(LedgerCreate)
@blp.response(201, LedgerOut)
def create_ledger(body: dict[str, Any]) -> Ledger:
    """Open a ledger."""
    ledger = Ledger(owner_id=security.current_user().id, name=body["name"].strip(),
                    currency=body["currency"])
    db.session().add(ledger)
    _commit_or_conflict("you already have a ledger with this name")
    log.info("ledger %s opened", ledger.id)
    return ledger


@blp.route("/<int:ledger_id>", methods=["GET"])
@security.login_required
@blp.response(200, LedgerOut)
def read_ledger(ledger_id: int) -> Ledger:
    """One of your ledgers."""
    return _own_ledger(ledger_id)


@blp.route("/<int:ledger_id>", methods=["PATCH"])
@security.login_required
@blp.arguments(LedgerUpdate)
@blp.response(200, LedgerOut)
def rename_ledger(body: dict[str, Any], ledger_id: int) -> Ledger:
    """Rename one of your ledgers."""
    ledger = _own_ledger(ledger_id)
    ledger.name = body["name"].strip()
    _commit_or_conflict("you already have a ledger with this name")
    return ledger


@blp.route("/<int:ledger_id>", methods=["DELETE"])
@security.login_required
@blp.response(204)
def delete_ledger(ledger_id: int) -> None:
    """Delete one of your ledgers and all its entries."""
    ledger = _own_ledger(ledger_id)
    db.session().delete(ledger)
    db.session().commit()
    log.info("ledger %s deleted", ledger_id)


@blp.route("/<int:ledger_id>/entries", methods=["GET"])
@security.login_required
@blp.arguments(Page, location="query")
@blp.response(200, EntryList)
def list_entries(page: dict[str, Any], ledger_id: int) -> dict[str, Any]:
    """A ledger's entries, oldest booking first."""
    ledger = _own_ledger(ledger_id)
    skip, limit = page_args(page)
    session = db.session()
    count = session.scalar(select(func.count()).where(Entry.ledger_id == ledger.id))
    rows = session.scalars(select(Entry).where(Entry.ledger_id == ledger.id)
                           .order_by(Entry.booked_on, Entry.id).offset(skip).limit(limit)).all()
    return {"data": rows, "count": count}


@blp.route("/<int:ledger_id>/entries", methods=["POST"])
@security.login_required
@blp.arguments(EntryCreate)
@blp.response(201, EntryOut)
def add_entry(body: dict[str, Any], ledger_id: int) -> Entry:
    """Book an entry: a positive amount is a credit, a negative one a debit."""
    ledger = _own_ledger(ledger_id)
    entry = Entry(ledger_id=ledger.id, amount=body["amount"],
                  description=body["description"].strip(), booked_on=body["booked_on"])
    db.session().add(entry)
    db.session().commit()
    return entry


@blp.route("/<int:ledger_id>/entries/<int:entry_id>", methods=["DELETE"])
@security.login_required
@blp.response(204)
def delete_entry(ledger_id: int, entry_id: int) -> None:
    """Remove an entry from one of your ledgers."""
    ledger = _own_ledger(ledger_id)
    entry = db.session().scalar(select(Entry).where(Entry.id == entry_id,
                                                    Entry.ledger_id == ledger.id))
    if entry is None:
        abort(404, message="entry not found")
    db.session().delete(entry)
    db.session().commit()


@blp.route("/<int:ledger_id>/balance", methods=["GET"])
@security.login_required
@blp.response(200, BalanceOut)
def balance(ledger_id: int) -> dict[str, Any]:
    """The ledger's balance: the sum of its entries, split into credits and debits."""
    ledger = _own_ledger(ledger_id)
    credits, debits, count = db.session().execute(
        select(func.coalesce(func.sum(case((Entry.amount > 0, Entry.amount))), ZERO),
               func.coalesce(func.sum(case((Entry.amount < 0, Entry.amount))), ZERO),
               func.count(Entry.id))
        .where(Entry.ledger_id == ledger.id)).one()
    return {"ledger_id": ledger.id, "currency": ledger.currency, "balance": credits + debits,
            "credits": credits, "debits": debits, "entries": count}
