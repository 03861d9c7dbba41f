"""The decision store's tables (SQLAlchemy Core), as the migrations' head revision builds them.

Times are naive UTC (SQLite has no time zones; both back ends store the same thing).
"""

from __future__ import annotations

import sqlalchemy as sa

#: Alembic's version table for this store (not ``alembic_version``: MLflow may share the database)
VERSION_TABLE = "engage_decisions_alembic_version"

metadata = sa.MetaData()

decisions = sa.Table(
    "engage_decisions",
    metadata,
    sa.Column("decision_id", sa.String(64), primary_key=True),
    sa.Column("decided_at", sa.DateTime(), nullable=False, index=True),
    sa.Column("model_name", sa.String(256)),
    sa.Column("model_version", sa.String(64)),
    sa.Column("run_id", sa.String(64)),
    sa.Column("model_uri", sa.String(2000)),
    sa.Column("spec_name", sa.String(256), nullable=False),
    sa.Column("spec_fingerprint", sa.String(128), nullable=False),
    sa.Column("style", sa.String(256), nullable=False),
    sa.Column("probability", sa.Float(), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    # density of the served continuous decisions' draw (full-action exploration), else NULL
    sa.Column("density", sa.Float(), nullable=True),
    # profile, posting mix, other decisions, objective, alternatives, outcome types, exploration
    sa.Column("payload", sa.JSON(), nullable=False),
)

outcomes = sa.Table(
    "engage_outcomes",
    metadata,
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
