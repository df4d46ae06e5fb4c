"""maps: the deployment-wide rate limiter of the geocoder (one row per limited service holding the next
allowed time) and the travel minutes of each job (from the previous finish or the start of the day)

Revision ID: maps_0002
Revises: maps_0001
"""
from alembic import op
import sqlalchemy as sa

revision = "maps_0002"
down_revision = "maps_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nominatim's 1 request/s is for the whole application: every process takes its turn from this row
    # (SELECT … FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite).
    op.create_table(
        "maps_rate_limits",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_at", sa.Float, nullable=False, server_default="0"),
    )
    with op.batch_alter_table("maps_job_facts") as t:
        t.add_column(sa.Column("travel_minutes", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("maps_job_facts") as t:
        t.drop_column("travel_minutes")
    op.drop_table("maps_rate_limits")
