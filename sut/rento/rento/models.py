"""SQLAlchemy 2 declarative models for every Rento table.

Table and column names are a contract: the Alembic migrations, the SQLite migration tool, the
backup verification and the seed generator all rely on them. Change them only together with a
new migration.

Ownership: ``accounts`` are tenant organisations and every other table carries ``account_id``.
Rooms, contracts, bills and payments also belong to their parent (room -> building, contract ->
room, bill -> contract, payment -> bill); their foreign key to the parent includes ``account_id``
(``(account_id, building_id) -> buildings (account_id, id)``), so the database itself guarantees
that a row belongs to the same account as its parent. Every API query filters on the table's own
``account_id`` (one tenant can never reach another tenant's rows) without joining up the chain,
and the ``(account_id, id)`` indexes serve both the filter and the ordering of lists.

Enumerated values are stored as short strings guarded by CHECK constraints rather than native
PostgreSQL ENUM types: adding a value is then a one-line migration and the SQLite import needs no
type mapping.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar, Dict, List, Optional

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names keep Alembic autogenerate and hand-written migrations in step.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

USER_ROLES = ("admin", "staff")
ROOM_STATUSES = ("vacant", "occupied", "maintenance")
CONTRACT_STATUSES = ("active", "expired", "terminated", "pending")
BILL_TYPES = ("rent", "deposit", "utility", "other")
BILL_STATUSES = ("pending", "paid", "partial", "overdue", "cancelled")
PAYMENT_METHODS = ("cash", "transfer", "wechat", "alipay", "card")

MONEY = Numeric(12, 2)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _owned_by(table: str, column: str, parent: str) -> ForeignKeyConstraint:
    """Foreign key to the parent row *of the same account*: (account_id, column) -> parent."""
    return ForeignKeyConstraint(
        ["account_id", column],
        [f"{parent}.account_id", f"{parent}.id"],
        name=f"fk_{table}_{column}_{parent}",
        ondelete="RESTRICT",
    )


def _account_key(table: str) -> UniqueConstraint:
    """(account_id, id): target of the children's foreign keys and the index of scoped lists."""
    return UniqueConstraint("account_id", "id", name=f"uq_{table}_account_id_id")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    """Surrogate key plus audit timestamps shared by every table."""

    # Fetch server-generated values (timestamps) with RETURNING instead of a later SELECT.
    __mapper_args__: ClassVar[Dict[str, Any]] = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(Integer, Identity(always=False), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class Account(TimestampMixin, Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200), nullable=False)

    users: Mapped[List[User]] = relationship(back_populates="account")


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", USER_ROLES), name="role"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="staff")
    is_active: Mapped[bool] = mapped_column(nullable=False, default=True, server_default="true")

    account: Mapped[Account] = relationship(back_populates="users")


class Building(TimestampMixin, Base):
    __tablename__ = "buildings"
    __table_args__ = (
        CheckConstraint("floors IS NULL OR floors >= 0", name="floors"),
        Index("ix_buildings_account_id_name", "account_id", "name"),
        _account_key("buildings"),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    address: Mapped[Optional[str]] = mapped_column(String(500))
    floors: Mapped[Optional[int]] = mapped_column(Integer)
    description: Mapped[Optional[str]] = mapped_column(Text)

    rooms: Mapped[List[Room]] = relationship(back_populates="building")


class Room(TimestampMixin, Base):
    __tablename__ = "rooms"
    __table_args__ = (
        CheckConstraint(_in("status", ROOM_STATUSES), name="status"),
        CheckConstraint("rent >= 0", name="rent"),
        CheckConstraint("deposit >= 0", name="deposit"),
        UniqueConstraint("building_id", "number", name="uq_rooms_building_id_number"),
        Index("ix_rooms_status", "status"),
        Index("ix_rooms_building_id_floor", "building_id", "floor"),
        _owned_by("rooms", "building_id", "buildings"),
        _account_key("rooms"),
    )

    account_id: Mapped[int] = mapped_column(Integer, nullable=False)
    building_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    floor: Mapped[Optional[int]] = mapped_column(Integer)
    area: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 2))
    rent: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    deposit: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default="vacant", server_default="vacant"
    )

    building: Mapped[Building] = relationship(back_populates="rooms")


class Renter(TimestampMixin, Base):
    __tablename__ = "renters"
    __table_args__ = (
        Index("ix_renters_account_id_name", "account_id", "name"),
        Index("ix_renters_phone", "phone"),
        _account_key("renters"),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    phone: Mapped[Optional[str]] = mapped_column(String(32))
    id_card: Mapped[Optional[str]] = mapped_column(String(32))
    email: Mapped[Optional[str]] = mapped_column(String(254))
    gender: Mapped[Optional[str]] = mapped_column(String(16))
    occupation: Mapped[Optional[str]] = mapped_column(String(100))
    emergency_contact: Mapped[Optional[str]] = mapped_column(String(100))
    emergency_phone: Mapped[Optional[str]] = mapped_column(String(32))
    remark: Mapped[Optional[str]] = mapped_column(Text)


class Contract(TimestampMixin, Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(_in("status", CONTRACT_STATUSES), name="status"),
        CheckConstraint("end_date >= start_date", name="dates"),
        CheckConstraint("payment_day BETWEEN 1 AND 31", name="payment_day"),
        CheckConstraint("monthly_rent >= 0", name="monthly_rent"),
        CheckConstraint("deposit >= 0", name="deposit"),
        Index("ix_contracts_status", "status"),
        _owned_by("contracts", "room_id", "rooms"),
        _account_key("contracts"),
    )

    account_id: Mapped[int] = mapped_column(Integer, nullable=False)
    room_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    renter_id: Mapped[int] = mapped_column(
        ForeignKey("renters.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    contract_number: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    monthly_rent: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    deposit: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    payment_day: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default="active", server_default="active"
    )

    room: Mapped[Room] = relationship()
    renter: Mapped[Renter] = relationship()


class Bill(TimestampMixin, Base):
    __tablename__ = "bills"
    __table_args__ = (
        CheckConstraint(_in("type", BILL_TYPES), name="type"),
        CheckConstraint(_in("status", BILL_STATUSES), name="status"),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("received_amount >= 0", name="received_amount"),
        Index("ix_bills_status", "status"),
        Index("ix_bills_due_date", "due_date"),
        Index("ix_bills_type", "type"),
        _owned_by("bills", "contract_id", "contracts"),
        _account_key("bills"),
    )

    account_id: Mapped[int] = mapped_column(Integer, nullable=False)
    contract_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    bill_number: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False, default="rent")
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    received_amount: Mapped[Decimal] = mapped_column(
        MONEY, nullable=False, default=Decimal("0"), server_default="0"
    )
    period_start: Mapped[Optional[dt.date]] = mapped_column(Date)
    period_end: Mapped[Optional[dt.date]] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default="pending", server_default="pending"
    )
    remark: Mapped[Optional[str]] = mapped_column(Text)

    contract: Mapped[Contract] = relationship()


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("method", PAYMENT_METHODS), name="method"),
        CheckConstraint("amount > 0", name="amount"),
        _owned_by("payments", "bill_id", "bills"),
        Index("ix_payments_account_id_id", "account_id", "id"),
    )

    account_id: Mapped[int] = mapped_column(Integer, nullable=False)
    bill_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    paid_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    reference: Mapped[Optional[str]] = mapped_column(String(128))

    bill: Mapped[Bill] = relationship()


# Tables in foreign-key order (parents first): used by data copy, verification and seeding.
TABLES_IN_ORDER = [
    t.name
    for t in (
        Account.__table__,
        User.__table__,
        Building.__table__,
        Room.__table__,
        Renter.__table__,
        Contract.__table__,
        Bill.__table__,
        Payment.__table__,
    )
]
