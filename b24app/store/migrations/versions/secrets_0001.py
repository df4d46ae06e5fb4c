"""secrets at rest: portals.application_token widened to TEXT — a sealed value ("fernet:…",
b24app/secretbox.py) of a 32-character token is ~150 characters, over the old VARCHAR(128).

Values are not sealed here (a migration must not need the key): legacy plain text is still read and is
sealed on its next write or by ``b24app rotate-keys``.

Revision ID: secrets_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "secrets_0001"
down_revision = "0001"
branch_labels = ("secrets",)
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":      # SQLite does not enforce a VARCHAR length
        return
    op.alter_column("portals", "application_token", existing_type=sa.String(128), type_=sa.Text())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("portals", "application_token", existing_type=sa.Text(), type_=sa.String(128))
