"""Initial schema: accounts, users, buildings, rooms, renters, contracts, bills, payments.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:26:47.128098
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "buildings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("floors", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("floors IS NULL OR floors >= 0", name=op.f("ck_buildings_floors")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_buildings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
    )
    op.create_index(op.f("ix_buildings_account_id"), "buildings", ["account_id"], unique=False)
    op.create_index(
        "ix_buildings_account_id_name", "buildings", ["account_id", "name"], unique=False
    )
    op.create_table(
        "renters",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("id_card", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("occupation", sa.String(length=100), nullable=True),
        sa.Column("emergency_contact", sa.String(length=100), nullable=True),
        sa.Column("emergency_phone", sa.String(length=32), nullable=True),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_renters_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renters")),
    )
    op.create_index(op.f("ix_renters_account_id"), "renters", ["account_id"], unique=False)
    op.create_index("ix_renters_account_id_name", "renters", ["account_id", "name"], unique=False)
    op.create_index("ix_renters_phone", "renters", ["phone"], unique=False)
    op.create_table(
        "users",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("role IN ('admin', 'staff')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_users_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_account_id"), "users", ["account_id"], unique=False)
    op.create_table(
        "rooms",
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=True),
        sa.Column("area", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("rent", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("deposit", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="vacant", nullable=False),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('vacant', 'occupied', 'maintenance')", name=op.f("ck_rooms_status")
        ),
        sa.CheckConstraint("deposit >= 0", name=op.f("ck_rooms_deposit")),
        sa.CheckConstraint("rent >= 0", name=op.f("ck_rooms_rent")),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_rooms_building_id_buildings"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("building_id", "number", name="uq_rooms_building_id_number"),
    )
    op.create_index(op.f("ix_rooms_building_id"), "rooms", ["building_id"], unique=False)
    op.create_index("ix_rooms_building_id_floor", "rooms", ["building_id", "floor"], unique=False)
    op.create_index("ix_rooms_status", "rooms", ["status"], unique=False)
    op.create_table(
        "contracts",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("renter_id", sa.Integer(), nullable=False),
        sa.Column("contract_number", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("monthly_rent", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("deposit", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("payment_day", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'expired', 'terminated', 'pending')",
            name=op.f("ck_contracts_status"),
        ),
        sa.CheckConstraint("deposit >= 0", name=op.f("ck_contracts_deposit")),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_contracts_dates")),
        sa.CheckConstraint("monthly_rent >= 0", name=op.f("ck_contracts_monthly_rent")),
        sa.CheckConstraint("payment_day BETWEEN 1 AND 31", name=op.f("ck_contracts_payment_day")),
        sa.ForeignKeyConstraint(
            ["renter_id"],
            ["renters.id"],
            name=op.f("fk_contracts_renter_id_renters"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_contracts_room_id_rooms"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("contract_number", name=op.f("uq_contracts_contract_number")),
    )
    op.create_index(op.f("ix_contracts_renter_id"), "contracts", ["renter_id"], unique=False)
    op.create_index(op.f("ix_contracts_room_id"), "contracts", ["room_id"], unique=False)
    op.create_index("ix_contracts_status", "contracts", ["status"], unique=False)
    op.create_table(
        "bills",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("bill_number", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "received_amount", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False
        ),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'partial', 'overdue', 'cancelled')",
            name=op.f("ck_bills_status"),
        ),
        sa.CheckConstraint(
            "type IN ('rent', 'deposit', 'utility', 'other')", name=op.f("ck_bills_type")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_bills_amount")),
        sa.CheckConstraint("received_amount >= 0", name=op.f("ck_bills_received_amount")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_bills_contract_id_contracts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint("bill_number", name=op.f("uq_bills_bill_number")),
    )
    op.create_index(op.f("ix_bills_contract_id"), "bills", ["contract_id"], unique=False)
    op.create_index("ix_bills_due_date", "bills", ["due_date"], unique=False)
    op.create_index("ix_bills_status", "bills", ["status"], unique=False)
    op.create_index("ix_bills_type", "bills", ["type"], unique=False)
    op.create_table(
        "payments",
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column(
            "paid_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('cash', 'transfer', 'wechat', 'alipay', 'card')",
            name=op.f("ck_payments_method"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount")),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["bills.id"], name=op.f("fk_payments_bill_id_bills"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_bill_id"), "payments", ["bill_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_bill_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_bills_type", table_name="bills")
    op.drop_index("ix_bills_status", table_name="bills")
    op.drop_index("ix_bills_due_date", table_name="bills")
    op.drop_index(op.f("ix_bills_contract_id"), table_name="bills")
    op.drop_table("bills")
    op.drop_index("ix_contracts_status", table_name="contracts")
    op.drop_index(op.f("ix_contracts_room_id"), table_name="contracts")
    op.drop_index(op.f("ix_contracts_renter_id"), table_name="contracts")
    op.drop_table("contracts")
    op.drop_index("ix_rooms_status", table_name="rooms")
    op.drop_index("ix_rooms_building_id_floor", table_name="rooms")
    op.drop_index(op.f("ix_rooms_building_id"), table_name="rooms")
    op.drop_table("rooms")
    op.drop_index(op.f("ix_users_account_id"), table_name="users")
    op.drop_table("users")
    op.drop_index("ix_renters_phone", table_name="renters")
    op.drop_index("ix_renters_account_id_name", table_name="renters")
    op.drop_index(op.f("ix_renters_account_id"), table_name="renters")
    op.drop_table("renters")
    op.drop_index("ix_buildings_account_id_name", table_name="buildings")
    op.drop_index(op.f("ix_buildings_account_id"), table_name="buildings")
    op.drop_table("buildings")
    op.drop_table("accounts")
