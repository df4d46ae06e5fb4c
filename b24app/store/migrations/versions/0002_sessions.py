"""page sessions kept server-side, each user's own portal tokens (sealed), phone links

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_tokens",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("access_token", sa.Text),
        sa.Column("refresh_token", sa.Text),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("token_version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("refresh_owner", sa.String(128)),
        sa.Column("refresh_lease_until", sa.Float),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "page_sessions",
        sa.Column("sid_hash", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger),
        sa.Column("lang", sa.String(8), nullable=False, server_default="ru"),
        sa.Column("placement", sa.String(64), nullable=False, server_default="DEFAULT"),
        sa.Column("kind", sa.String(16), nullable=False, server_default="frame"),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("link_id", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_page_sessions_member", "page_sessions", ["member_id", "expires_at"])
    op.create_table(
        "phone_links",
        sa.Column("link_hash", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("lang", sa.String(8), nullable=False, server_default="ru"),
        sa.Column("label", sa.String(255), nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float),
        sa.Column("revoked_at", sa.Float),
    )
    op.create_index("ix_phone_links_member", "phone_links", ["member_id", "user_id"])


def downgrade() -> None:
    op.drop_table("phone_links")
    op.drop_table("page_sessions")
    op.drop_table("user_tokens")
