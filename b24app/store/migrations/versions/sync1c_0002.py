"""sync_1c: per-order state (issue 13) — 1C's own paid total (order-state register), the admin's binding of
an order to one deal, the deals told that an order is claimed twice

Revision ID: sync1c_0002
Revises: sync1c_0001
"""
from alembic import op
import sqlalchemy as sa

revision = "sync1c_0002"
down_revision = "sync1c_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync1c_orders",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("order_key", sa.String(64), primary_key=True),
        sa.Column("number", sa.String(64)),
        sa.Column("order_date", sa.String(32)),
        sa.Column("paid_1c", sa.String(32)),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("bound_deal", sa.BigInteger),
        sa.Column("noted", sa.JSON),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("sync1c_orders")
