"""Alembic migrations of the decision store, run by :func:`engage.decisions.store.migrate`."""
