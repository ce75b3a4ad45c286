"""Alembic environment for the ledger schema.

kiroku runs migrations itself (`kiroku.ledger.store.upgrade`), passing an open connection in
``config.attributes["connection"]``. To write a new migration by hand, point ``sqlalchemy.url`` at a scratch
database and run ``alembic -c <ini> revision -m "..."``.
"""

from alembic import context
from sqlalchemy import create_engine

from kiroku.ledger.store import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
