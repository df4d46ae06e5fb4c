"""SQLAlchemy Core tables — what queries are written against. The DDL itself lives in the Alembic
migrations (migrations/versions/); keep the two in step."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

portals = sa.Table(
    "portals", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("domain", sa.String(255), nullable=False),
    sa.Column("client_endpoint", sa.String(512), nullable=False),
    sa.Column("server_endpoint", sa.String(512), nullable=False, server_default=""),
    sa.Column("access_token", sa.Text),
    sa.Column("refresh_token", sa.Text),
    sa.Column("expires_at", sa.BigInteger),
    sa.Column("application_token", sa.Text),           # sealed (secrets_0001)
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

inbox = sa.Table(
    "inbox", metadata,
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

kv = sa.Table(
    "kv", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.JSON),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

# Shared leaky buckets (b24app/throttle.py SqlThrottle): one row per limited name (a portal's member_id),
# the bucket's "theoretical arrival time" — every process of the deployment draws from the same row.
rate_buckets = sa.Table(
    "rate_buckets", metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("tat", sa.Float, nullable=False),
)
