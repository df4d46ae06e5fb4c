"""portals, inbox, kv — each keyed by member_id (docs/architecture.md, store interface)

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "portals",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("client_endpoint", sa.String(512), nullable=False),
        sa.Column("server_endpoint", sa.String(512), nullable=False, server_default=""),
        sa.Column("access_token", sa.Text),
        sa.Column("refresh_token", sa.Text),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("application_token", sa.String(128)),
        sa.Column("scope", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(32), nullable=False, server_default="installing"),
        sa.Column("lang", sa.String(8), nullable=False, server_default="ru"),
        sa.Column("user_id", sa.BigInteger),
        sa.Column("token_version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("refresh_owner", sa.String(128)),
        sa.Column("refresh_lease_until", sa.Float),
        sa.Column("installed_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "inbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("dedup_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("owner", sa.String(128)),
        sa.Column("lease_until", sa.Float),
        sa.Column("available_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("member_id", "dedup_key", name="uq_inbox_member_dedup"),
    )
    op.create_index("ix_inbox_claim", "inbox", ["status", "available_at", "id"])
    op.create_index("ix_inbox_member", "inbox", ["member_id"])
    op.create_table(
        "kv",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.JSON),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("kv")
    op.drop_index("ix_inbox_member", "inbox")
    op.drop_index("ix_inbox_claim", "inbox")
    op.drop_table("inbox")
    op.drop_table("portals")
