"""rules: the firing ledger (rule, entity, occurrence) with the step reached, the last state seen per
entity (for "changed" and "moved back" triggers), order-number counters and the numbers given (issue 15)

Every table carries member_id, so a CLEAN uninstall (PortalStore.forget) removes it all.

Revision ID: rules_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "rules_0001"
down_revision = "0001"
branch_labels = ("rules",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rules_ledger",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("rule_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(16), primary_key=True),
        sa.Column("entity_id", sa.BigInteger, primary_key=True),
        sa.Column("occurrence", sa.String(200), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),         # running | done | failed | skipped
        sa.Column("step", sa.Integer, nullable=False),               # actions completed
        sa.Column("lease_until", sa.Float, nullable=False),          # a running row past this was abandoned
        sa.Column("error", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_rules_ledger_status", "rules_ledger", ["member_id", "status"])
    op.create_table(
        "rules_seen",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(16), primary_key=True),
        sa.Column("entity_id", sa.BigInteger, primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),                  # {stage, furthest, fields: {code: value}}
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "rules_counters",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("counter", sa.String(32), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last_n", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rules_numbers",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("counter", sa.String(32), primary_key=True),
        sa.Column("entity", sa.String(16), primary_key=True),
        sa.Column("entity_id", sa.BigInteger, primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("member_id", "counter", "year", "n", name="uq_rules_numbers_n"),
    )


def downgrade() -> None:
    op.drop_table("rules_numbers")
    op.drop_table("rules_counters")
    op.drop_table("rules_seen")
    op.drop_index("ix_rules_ledger_status", table_name="rules_ledger")
    op.drop_table("rules_ledger")
