"""sync_1c: payments ledger, per-deal written state, review list, sync cursor (issue 6)

Every table carries member_id, so a CLEAN uninstall (PortalStore.forget) removes it all.

Revision ID: sync1c_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "sync1c_0001"
down_revision = "0001"
branch_labels = ("sync_1c",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync1c_payments",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("ref_key", sa.String(64), primary_key=True),
        sa.Column("entity_set", sa.String(128), nullable=False, server_default=""),
        sa.Column("doc_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),          # hash of what counts (not DataVersion alone)
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("commented", sa.String(64)),                        # version last put on the deal's timeline
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_sync1c_payments_date", "sync1c_payments", ["member_id", "doc_date"])
    op.create_table(
        "sync1c_deals",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("deal_id", sa.BigInteger, primary_key=True),
        sa.Column("order_key", sa.String(64)),
        sa.Column("written", sa.JSON),                                # the owned fields as last written
        sa.Column("last_stage", sa.String(64)),                       # last stage seen that passed the gate
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "sync1c_review",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("item_key", sa.String(128), primary_key=True),      # order key or payment ref
        sa.Column("reason", sa.String(32), nullable=False),           # unmatched | ambiguous | unallocated | currency
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "sync1c_cursor",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("window_end", sa.DateTime(timezone=True)),          # UTC end of the last committed window
        sa.Column("last_ok_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("stats", sa.JSON),
        sa.Column("lease_owner", sa.String(64)),                      # one sync per portal at a time
        sa.Column("lease_until", sa.Float),
    )


def downgrade() -> None:
    for name in ("sync1c_cursor", "sync1c_review", "sync1c_deals"):
        op.drop_table(name)
    op.drop_index("ix_sync1c_payments_date", "sync1c_payments")
    op.drop_table("sync1c_payments")
