"""Decisions and their outcomes.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engage_decisions",
        sa.Column("decision_id", sa.String(64), primary_key=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("model_name", sa.String(256)),
        sa.Column("model_version", sa.String(64)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("model_uri", sa.String(2000)),
        sa.Column("spec_name", sa.String(256), nullable=False),
        sa.Column("spec_fingerprint", sa.String(128), nullable=False),
        sa.Column("style", sa.String(256), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_engage_decisions_decided_at", "engage_decisions", ["decided_at"])
    op.create_table(
        "engage_outcomes",
        sa.Column(
            "decision_id",
            sa.String(64),
            sa.ForeignKey("engage_decisions.decision_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("observed_at", sa.DateTime()),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engage_outcomes")
    op.drop_index("ix_engage_decisions_decided_at", table_name="engage_decisions")
    op.drop_table("engage_decisions")
