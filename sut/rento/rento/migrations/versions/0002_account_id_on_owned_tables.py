"""account_id on rooms, contracts, bills and payments; foreign keys to the parent include it.

Until now these tables belonged to an account only through their parent chain, so every scoped
list and count joined up to buildings over every row (50,000 bills meant a 4-table join per
request). Now each table carries ``account_id`` and its foreign key to the parent is
``(account_id, parent_id) -> parent (account_id, id)``: the database guarantees that a row and
its parent belong to the same account, and the ``(account_id, id)`` indexes serve scoped lists
and counts directly. The single-column ``account_id`` indexes of buildings and renters are
replaced by their ``(account_id, id)`` keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 12:00:00.000000
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (table, column referring to the parent, parent), parents first.
OWNED = (
    ("rooms", "building_id", "buildings"),
    ("contracts", "room_id", "rooms"),
    ("bills", "contract_id", "contracts"),
    ("payments", "bill_id", "bills"),
)


def upgrade() -> None:
    for table in ("buildings", "renters"):
        op.create_unique_constraint(f"uq_{table}_account_id_id", table, ["account_id", "id"])
        op.drop_index(f"ix_{table}_account_id", table_name=table)

    for table, column, parent in OWNED:
        op.add_column(table, sa.Column("account_id", sa.Integer(), nullable=True))
        op.execute(  # names from OWNED above, not from input
            f"UPDATE {table} AS t SET account_id = p.account_id "  # noqa: S608
            f"FROM {parent} AS p WHERE p.id = t.{column}"
        )
        op.alter_column(table, "account_id", nullable=False)
        if table == "payments":
            op.create_index("ix_payments_account_id_id", table, ["account_id", "id"])
        else:
            op.create_unique_constraint(f"uq_{table}_account_id_id", table, ["account_id", "id"])
        fk = f"fk_{table}_{column}_{parent}"
        op.drop_constraint(fk, table, type_="foreignkey")
        op.create_foreign_key(
            fk, table, parent, ["account_id", column], ["account_id", "id"], ondelete="RESTRICT"
        )
        # The backfill rewrote every row: give the planner fresh statistics right away.
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for table, column, parent in reversed(OWNED):
        fk = f"fk_{table}_{column}_{parent}"
        op.drop_constraint(fk, table, type_="foreignkey")
        op.create_foreign_key(fk, table, parent, [column], ["id"], ondelete="RESTRICT")
        if table == "payments":
            op.drop_index("ix_payments_account_id_id", table_name=table)
        else:
            op.drop_constraint(f"uq_{table}_account_id_id", table, type_="unique")
        op.drop_column(table, "account_id")

    for table in ("renters", "buildings"):
        op.create_index(f"ix_{table}_account_id", table, ["account_id"], unique=False)
        op.drop_constraint(f"uq_{table}_account_id_id", table, type_="unique")
