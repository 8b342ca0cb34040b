"""Alembic environment for the SQL profile store.

stackctl runs Alembic in code (``stackctl.stores.sql``), never from a command
line: the caller opens the connection, takes the migration lock, begins the
transaction and passes the connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from stackctl.stores.sql_schema import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE,
                  render_as_batch=True)  # SQLite alters tables by copying them
with context.begin_transaction():
    context.run_migrations()
