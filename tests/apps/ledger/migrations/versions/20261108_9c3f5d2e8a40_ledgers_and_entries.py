"""ledgers and entries

Revision ID: 9c3f5d2e8a40
Revises: 4b1e0c7a9d21
Create Date: 2026-11-08 16:40:03
"""

import sqlalchemy as sa
from alembic import op

revision = "9c3f5d2e8a40"
down_revision = "4b1e0c7a9d21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledgers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint("owner_id", "name", name="uq_ledgers_owner_name"),
    )
    op.create_index("ix_ledgers_owner_id", "ledgers", ["owner_id"])
    op.create_table(
        "entries",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("ledger_id", sa.Integer(), sa.ForeignKey("ledgers.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_entries_amount_nonzero"),
    )
    op.create_index("ix_entries_ledger_booked", "entries", ["ledger_id", "booked_on"])


def downgrade() -> None:
    op.drop_index("ix_entries_ledger_booked", table_name="entries")
    op.drop_table("entries")
    op.drop_index("ix_ledgers_owner_id", table_name="ledgers")
    op.drop_table("ledgers")
