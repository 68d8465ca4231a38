"""Alembic environment shared by every context.

The caller (``shoplab.platform.persistence.migrate``) passes the connection, the context's
metadata and its own version table through ``config.attributes``, so each
context keeps an independent migration history even in a shared database.
"""

from alembic import context

config = context.config
context.configure(
    connection=config.attributes["connection"],
    target_metadata=config.attributes["metadata"],
    version_table=config.attributes["version_table"],
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
