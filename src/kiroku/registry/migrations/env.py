"""Alembic environment for the registry schema.

kiroku runs the migrations itself (`kiroku.registry.db.upgrade`), passing an open connection in
``config.attributes["connection"]``. The registry's revisions are kept in their own table,
``registry_alembic_version``, so that a registry and a ledger may share a database.
"""

from alembic import context
from sqlalchemy import create_engine

from kiroku.registry.db import metadata

VERSION_TABLE = "registry_alembic_version"
config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=True, version_table=VERSION_TABLE
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(
            connection=conn, target_metadata=metadata, render_as_batch=True, version_table=VERSION_TABLE
        )
        with context.begin_transaction():
            context.run_migrations()
