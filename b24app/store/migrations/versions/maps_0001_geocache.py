"""maps: geocoding cache (deployment-wide, keyed by normalised address), manual pins and per-portal
geocoding state of CRM records, the map's change version, job start/finish facts (issue 4)

Revision ID: maps_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "maps_0001"
down_revision = "0001"
branch_labels = ("maps",)
depends_on = None


def upgrade() -> None:
    # One address is one building for every portal, so the provider's answer is shared (and paid for
    # in Nominatim's 1 request/s once); a dispatcher's pin is the portal's own opinion and stays per portal.
    op.create_table(
        "maps_geocache",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        sa.Column("provider", sa.String(64), nullable=False, server_default=""),
        sa.Column("at", sa.Float, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_maps_geocache_status", "maps_geocache", ["status", "at"])
    op.create_table(
        "maps_pins",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("at", sa.Float, nullable=False, server_default="0"),
    )
    # Which CRM record had which address geocoded: the failed list of a portal and "geocode once".
    op.create_table(
        "maps_records",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(16), primary_key=True),          # deal | company
        sa.Column("entity_id", sa.BigInteger, primary_key=True),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.Float, nullable=False, server_default="0"),
    )
    op.create_table(
        "maps_versions",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "maps_job_facts",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("deal_id", sa.BigInteger, primary_key=True),
        sa.Column("worker_id", sa.BigInteger),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("actual_minutes", sa.Integer),
    )


def downgrade() -> None:
    for t in ("maps_job_facts", "maps_versions", "maps_records", "maps_pins", "maps_geocache"):
        op.drop_table(t)
