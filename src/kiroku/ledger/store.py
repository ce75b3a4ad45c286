"""Storage of the ledger: one SQLAlchemy schema for SQLite (the embedded default) and PostgreSQL.

Tables:

``log_state``
    one row: the log's origin and its size. Appenders lock this row (``BEGIN IMMEDIATE`` on SQLite,
    ``SELECT ... FOR UPDATE`` on PostgreSQL), so concurrent appenders get distinct, gap-free indexes.
``leaves``
    one row per record: index, kind, time, SHA-256 of the canonical body, and the leaf hash.
``nodes``
    the hash of every complete interior subtree, keyed by `kiroku.ledger.tree.stored_order`, written in the
    same transaction as the leaf that completes it. Roots and proofs read O(log n) of these.
``bodies``
    the canonical body of each record, with the end of its retention period; an expired body is deleted and
    the time of deletion kept.
``checkpoints``
    every checkpoint the log has signed, as the signed note text.

The schema is created and upgraded by the Alembic migrations in ``kiroku/ledger/migrations``; `upgrade` runs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    make_url,
    select,
)
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from kiroku.ledger.errors import StoreError

__all__ = [
    "SCHEMA_REVISION",
    "bodies",
    "checkpoints",
    "connect",
    "leaves",
    "log_state",
    "metadata",
    "nodes",
    "upgrade",
    "write_transaction",
]

# The Alembic revision this code expects; `upgrade` brings older databases to it.
SCHEMA_REVISION = "0002"

# SQLite makes only INTEGER PRIMARY KEY an alias of its 64-bit rowid; BIGINT there would build a second index.
Index64 = BigInteger().with_variant(Integer(), "sqlite")
Hash = LargeBinary(32)

metadata = MetaData()

log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("origin", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", String(32), nullable=False),
)

leaves = Table(
    "leaves",
    metadata,
    Column("idx", Index64, primary_key=True, autoincrement=False),
    Column("kind", String(64), nullable=False),
    Column("time", String(32), nullable=False),
    Column("body_sha256", Hash, nullable=False),
    Column("leaf_hash", Hash, nullable=False),
    Index("ix_leaves_kind", "kind", "idx"),
)

nodes = Table(
    "nodes",
    metadata,
    Column("ord", Index64, primary_key=True, autoincrement=False),
    Column("hash", Hash, nullable=False),
)

bodies = Table(
    "bodies",
    metadata,
    Column("idx", Index64, primary_key=True, autoincrement=False),
    Column("body", LargeBinary, nullable=True),
    Column("expires_at", String(32), nullable=True),
    Column("expired_at", String(32), nullable=True),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", Index64, primary_key=True, autoincrement=False),
    Column("root_hash", Hash, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", String(32), nullable=False),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 opens transactions on its own; take that over so a write can BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode never corrupts the database on a crash; the last commits may roll back on power loss.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("kiroku_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def connect(url: str) -> Engine:
    """Open the database at ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise StoreError(
            f"store URL {url!r}: kiroku keeps its ledger in SQLite (sqlite:///PATH) or PostgreSQL "
            "(postgresql+psycopg://USER@HOST/DB)"
        )
    try:
        if url.startswith("sqlite"):
            database = make_url(url).database
            if database and database != ":memory:" and not Path(database).parent.is_dir():
                raise StoreError(f"store {url!r}: folder {Path(database).parent} does not exist")
            engine = create_engine(url, connect_args={"timeout": 60})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"store URL {url!r} is not usable: {exc}") from exc
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[tuple[Connection, int]]:
    """A transaction that holds the log's append lock; yields the connection and the current log size."""
    with engine.connect().execution_options(kiroku_write=True) as conn, conn.begin():
        query = select(log_state.c.size).where(log_state.c.id == 1)
        if engine.dialect.name != "sqlite":
            query = query.with_for_update()
        size = conn.execute(query).scalar_one_or_none()
        if size is None:
            raise StoreError("the database holds no kiroku ledger (run 'kiroku init' first)")
        yield conn, int(size)


def upgrade(engine: Engine) -> None:
    """Create or upgrade the ledger schema with the bundled Alembic migrations."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            if current == SCHEMA_REVISION:
                return
            if current is None and inspect(conn).has_table("leaves"):
                raise StoreError(
                    "the database has ledger tables but no schema revision; it was not made by kiroku"
                )
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(f"cannot open the ledger database: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot prepare the ledger database: {exc}") from exc
