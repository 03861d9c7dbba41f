"""Alembic environment of the decision store: runs on the connection the product passes in.

Never run by hand: :func:`engage.decisions.store.migrate` calls ``alembic upgrade head`` with
``config.attributes["connection"]`` set. The version table has its own name so the store can
share a PostgreSQL database with MLflow (whose Alembic table is ``alembic_version``).
"""

from alembic import context

from engage.decisions.tables import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
