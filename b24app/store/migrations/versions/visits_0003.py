"""visits: what the calendar event says (hash of its name and description), so a new title or purpose of
the visit is copied to the event too

Revision ID: visits_0003
Revises: visits_0002
"""
from alembic import op
import sqlalchemy as sa

revision = "visits_0003"
down_revision = "visits_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits_calendar") as b:
        b.add_column(sa.Column("content", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visits_calendar") as b:
        b.drop_column("content")
