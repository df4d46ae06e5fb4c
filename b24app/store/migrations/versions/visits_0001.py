"""visits: rule ledger (each kanban rule fires once per visit date), visit→calendar event links, human
touches seen in ONCRMDYNAMICITEMUPDATE events (issue 5)

Every table carries member_id, so a CLEAN uninstall (PortalStore.forget) removes it all.

Revision ID: visits_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "visits_0001"
down_revision = "0001"
branch_labels = ("visits",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visits_rule_ledger",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.BigInteger, primary_key=True),
        sa.Column("rule", sa.String(32), primary_key=True),
        sa.Column("date_key", sa.String(32), primary_key=True),     # the visit date the rule fired for
        sa.Column("from_stage", sa.String(64)),
        sa.Column("to_stage", sa.String(64)),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "visits_calendar",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.BigInteger, primary_key=True),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("owner_id", sa.BigInteger),
        sa.Column("date_from", sa.String(40)),                       # as last written to the event
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "visits_touch",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.BigInteger, primary_key=True),
        sa.Column("touched_at", sa.Float, nullable=False),           # unix seconds the event was handled
    )


def downgrade() -> None:
    op.drop_table("visits_touch")
    op.drop_table("visits_calendar")
    op.drop_table("visits_rule_ledger")
