"""field: the worker's phone — every action the phone sent, keyed by the id the phone generated (so a
replay from its offline queue is applied exactly once), and per job the taps that give travel and on-site
minutes (issue 14)

Every table carries member_id, so a CLEAN uninstall (PortalStore.forget) removes it all.

Revision ID: field_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "field_0001"
down_revision = "0001"
branch_labels = ("field",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_actions",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("action_id", sa.String(64), primary_key=True),      # generated on the phone
        sa.Column("worker_id", sa.BigInteger, nullable=False),
        sa.Column("item_kind", sa.String(32), nullable=False),         # job | visit | (desk: work_order …)
        sa.Column("item_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),            # sha256 of what the phone sent
        sa.Column("status", sa.String(16), nullable=False),            # running | done | failed
        sa.Column("steps", sa.Text, nullable=False, server_default="{}"),   # JSON: portal steps done, their ids
        sa.Column("lease_until", sa.Float, nullable=False),
        sa.Column("tapped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float), sa.Column("lon", sa.Float),
        sa.Column("error", sa.String(500)),
    )
    op.create_index("ix_field_actions_item", "field_actions", ["member_id", "item_kind", "item_id"])
    op.create_table(
        "field_jobs",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("item_kind", sa.String(32), primary_key=True),
        sa.Column("item_id", sa.BigInteger, primary_key=True),
        sa.Column("worker_id", sa.BigInteger, nullable=False),
        sa.Column("on_way_at", sa.DateTime(timezone=True)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("checked_in_at", sa.DateTime(timezone=True)),
        sa.Column("checked_out_at", sa.DateTime(timezone=True)),
        sa.Column("travel_minutes", sa.Integer),
        sa.Column("on_site_minutes", sa.Integer),
        sa.Column("files", sa.Integer, nullable=False, server_default="0"),
        sa.Column("comments", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("field_jobs")
    op.drop_index("ix_field_actions_item", "field_actions")
    op.drop_table("field_actions")
