"""reports: plans per employee and month, the dashboards' cache (visits as counted, 1C sales per deal
responsible, the cache's state and writer lease) and the hashed feed tokens (issue 14)

Every table carries member_id, so a CLEAN uninstall (PortalStore.forget) removes it all.

Revision ID: reports_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "reports_0001"
down_revision = "0001"
branch_labels = ("reports",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports_plans",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),             # YYYY-MM
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "reports_visits",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("visit_id", sa.BigInteger, primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),                # the visit's local date, YYYY-MM-DD
        sa.Column("kind", sa.String(16), nullable=False),               # planned | done | overdue | failed | other
        sa.Column("manager", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("region", sa.String(255), nullable=False, server_default=""),
        sa.Column("vtype", sa.String(64), nullable=False, server_default=""),
        sa.Column("on_time", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated", sa.String(40), nullable=False, server_default=""),
    )
    op.create_index("ix_reports_visits_day", "reports_visits", ["member_id", "day"])
    op.create_table(
        "reports_sales",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("ref_key", sa.String(64), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("deal_id", sa.BigInteger, nullable=False),
        sa.Column("manager", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    )
    op.create_table(
        "reports_deals",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("deal_id", sa.BigInteger, primary_key=True),
        sa.Column("manager", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "reports_cache",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("filled_at", sa.Float, nullable=False, server_default="0"),      # last full read
        sa.Column("refreshed_at", sa.Float, nullable=False, server_default="0"),   # last read of any kind
        sa.Column("stale_at", sa.Float, nullable=False, server_default="0"),       # an event since: refresh
        sa.Column("mark", sa.String(40), nullable=False, server_default=""),       # portal time of the last read
        sa.Column("zone", sa.String(64), nullable=False, server_default=""),
        sa.Column("names", sa.JSON),                                               # user id → name
        sa.Column("stats", sa.JSON),                                               # what the last reads cost
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", sa.Float),
    )
    op.create_table(
        "reports_feed_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),                  # sha256 hex; never the token
        sa.Column("member_id", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", sa.BigInteger),
    )


def downgrade() -> None:
    for t in ("reports_feed_tokens", "reports_cache", "reports_deals", "reports_sales", "reports_visits",
              "reports_plans"):
        op.drop_table(t)
