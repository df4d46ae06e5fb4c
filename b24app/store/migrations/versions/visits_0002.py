"""visits: visits whose calendar event must be checked (set by the portal's events, drained in batches)

Revision ID: visits_0002
Revises: visits_0001
"""
from alembic import op
import sqlalchemy as sa

revision = "visits_0002"
down_revision = "visits_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visits_calendar_dirty",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.BigInteger, primary_key=True),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("marked_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("visits_calendar_dirty")
