"""The density of a decision's explored continuous decisions (full-action exploration).

Existing decisions keep NULL: they were served with the policy's own mix and cadence.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("engage_decisions") as batch:
        batch.add_column(sa.Column("density", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engage_decisions") as batch:
        batch.drop_column("density")
