"""maps: the orders map's job cache kept current by deal events (issue 19): the cached jobs with the seq
they were written under, the cache's state (generation, seq, fingerprint of the installed ids, the
"changed since" mark, the writer's lease) and the deals marked for the next refresh

Revision ID: maps_0003
Revises: maps_0002
"""
from alembic import op
import sqlalchemy as sa

revision = "maps_0003"
down_revision = "maps_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maps_jobs",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("deal_id", sa.BigInteger, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("data", sa.JSON),
    )
    op.create_index("ix_maps_jobs_seq", "maps_jobs", ["member_id", "seq"])
    op.create_table(
        "maps_jobcache",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("gen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),
        sa.Column("mark", sa.String(40), nullable=False, server_default=""),
        sa.Column("checked_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", sa.Float),
    )
    op.create_table(
        "maps_dirty",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("deal_id", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for t in ("maps_dirty", "maps_jobcache", "maps_jobs"):
        op.drop_table(t)
