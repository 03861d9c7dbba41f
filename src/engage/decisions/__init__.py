"""Decision records: what was served, with which probability, and what happened after.

Serving records every answer (:mod:`.capture`) through a bounded queue drained by a background
writer (:mod:`.writer`) into a SQL store (:mod:`.store`: SQLite by default, PostgreSQL when
``ENGAGE_DECISIONS_URL`` names one; schema versioned by Alembic, :mod:`.migrations`).
Outcomes posted later merge into their decision; :mod:`.export` writes decisions and outcomes
as a campaign log whose propensity column holds the recorded probabilities.

This package is below training and serving and above the policy: no FastAPI, no MLflow.
"""
