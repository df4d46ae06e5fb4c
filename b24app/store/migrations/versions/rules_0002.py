"""rules: the public forms sent by rules (NPS after a won deal, issue 15) — one row per link (its token
stored as a hash), the one answer it takes, and whether the portal has been told.

Revision ID: rules_0002
Revises: rules_0001
"""
from alembic import op
import sqlalchemy as sa

revision = "rules_0002"
down_revision = "rules_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rules_forms",
        sa.Column("token_hash", sa.String(64), primary_key=True),       # sha256 of the link's secret
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("form", sa.String(16), nullable=False),                # "nps"
        sa.Column("deal_id", sa.BigInteger, nullable=False),             # the NPS copy
        sa.Column("source_id", sa.BigInteger, nullable=False),           # the won deal
        sa.Column("responsible_id", sa.BigInteger),
        sa.Column("lang", sa.String(8)),
        sa.Column("title", sa.String(255)),
        sa.Column("positive_stage", sa.String(64)),
        sa.Column("negative_stage", sa.String(64)),
        sa.Column("review_url", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),           # set once: one answer per link
        sa.Column("answers", sa.JSON),
        sa.Column("result", sa.String(16)),                              # positive | negative
        sa.Column("applied_at", sa.DateTime(timezone=True)),             # the portal was written
    )
    op.create_index("ix_rules_forms_deal", "rules_forms", ["member_id", "deal_id"])


def downgrade() -> None:
    op.drop_table("rules_forms")
