"""The store: Alembic migrations create exactly the schema the code declares, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kiroku.ledger import Ledger
from kiroku.ledger import store as tables


def test_migrations_create_the_declared_schema(store_url: str) -> None:
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    with ledger.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == tables.SCHEMA_REVISION
        assert compare_metadata(context, tables.metadata) == []


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    ledger = Ledger.create(f"sqlite:///{tmp_path}/l.sqlite", "test.kiroku/ledger")
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
