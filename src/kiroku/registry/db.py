"""The registry's storage: one SQLAlchemy schema for SQLite (the default) and PostgreSQL, migrated by Alembic.

Tables (named ``registry_*``, so that a registry may share a PostgreSQL database with a ledger):

``registry_state``
    one row: the witness key the registry cosigns checkpoints with, and the secret its session cookies are signed
    with, both made when the database is created.
``registry_firms``
    the firms that asked to register: name, contact, the Ed25519 verifier key their filings are signed with,
    status (``pending`` until an administrator approves), and whether the registry flagged them publicly.
``registry_firm_tokens``
    API tokens of each firm, stored as SHA-256 hashes (the token itself is shown once).
``registry_filings``
    every filing as received, byte for byte: its kind, year, version (a correction is a new version of the same
    kind and year), SHA-256 and the ledger size and root it is bound to. Rows are never updated or deleted.
``registry_checkpoints``
    every checkpoint a firm submitted: the note as signed, the registry's cosigned note when it was consistent,
    and the evidence when it was not.
``registry_admins``, ``registry_audit_log``
    registry administrators (argon2 password hashes) and every administrative action.
``registry_domain_claims``
    rightsholders' claims of a domain: the domain (IDNA-normalised, lower case), the random token to serve at
    ``/.well-known/kiroku-verification.txt`` on it, the SHA-256 of the claim's secret, the claimant's contact,
    and when the claim was made and verified.
``registry_inquiries``
    rightsholders' questions to a firm about a verified domain or a piece of text from it: the SHA-256 of the
    secret that shows the inquiry to its asker, its status (``open``, ``answered``), when it was asked and
    answered, the firm's answer bundle as received and the registry's verification of it (JSON).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Path as FastAPIPath
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    inspect,
    make_url,
)
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from kiroku.registry.errors import RegistryError

__all__ = [
    "SCHEMA_REVISION",
    "RowId",
    "admins",
    "audit_log",
    "checkpoints",
    "connect",
    "domain_claims",
    "filings",
    "firm_tokens",
    "firms",
    "inquiries",
    "metadata",
    "registry_state",
    "upgrade",
]

SCHEMA_REVISION = "0002"

RowId = Annotated[int, FastAPIPath(ge=1, le=2**63 - 1, description="a row number")]
"""A row number in a URL: outside what the databases store, the request is invalid (422), not a server error."""

metadata = MetaData()
Time = String(32)  # RFC 3339, UTC, seconds

registry_state = Table(
    "registry_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("witness_key", Text, nullable=False),
    Column("session_secret", String(128), nullable=False),
    Column("created_at", Time, nullable=False),
)

firms = Table(
    "registry_firms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("address", Text, nullable=False),
    Column("contact", String(300), nullable=False),
    Column("key", String(400), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("flag_reason", Text, nullable=True),
    Column("registered_at", Time, nullable=False),
    Column("decided_at", Time, nullable=True),
)

firm_tokens = Table(
    "registry_firm_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("firm_id", Integer, ForeignKey("registry_firms.id"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", Time, nullable=False),
    Column("revoked_at", Time, nullable=True),
)

filings = Table(
    "registry_filings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("firm_id", Integer, ForeignKey("registry_firms.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("ledger_size", Integer, nullable=False),
    Column("ledger_root", String(64), nullable=False),
    Column("received_at", Time, nullable=False),
    UniqueConstraint("firm_id", "kind", "year", "version", name="uq_registry_filings_version"),
    Index("ix_registry_filings_year", "year", "kind"),
)

checkpoints = Table(
    "registry_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("firm_id", Integer, ForeignKey("registry_firms.id"), nullable=False),
    Column("size", Integer, nullable=False),
    Column("root", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("cosigned", Text, nullable=True),
    Column("consistent", Boolean, nullable=False),
    Column("evidence", Text, nullable=True),
    Column("received_at", Time, nullable=False),
    Index("ix_registry_checkpoints_firm", "firm_id", "size"),
)

admins = Table(
    "registry_admins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", Time, nullable=False),
)

audit_log = Table(
    "registry_audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Time, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(300), nullable=False),
    Column("detail", Text, nullable=True),
)

domain_claims = Table(
    "registry_domain_claims",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("domain", String(253), nullable=False),
    Column("token", String(64), nullable=False),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("contact", String(300), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("verified_at", Time, nullable=True),
    Index("ix_registry_domain_claims_domain", "domain"),
)

inquiries = Table(
    "registry_inquiries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("firm_id", Integer, ForeignKey("registry_firms.id"), nullable=False),
    Column("claim_id", Integer, ForeignKey("registry_domain_claims.id"), nullable=False),
    Column("contact", String(300), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("domain", String(253), nullable=False),
    Column("text", Text, nullable=True),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("answered_at", Time, nullable=True),
    Column("bundle", Text, nullable=True),
    Column("verification", Text, nullable=True),
    Index("ix_registry_inquiries_firm", "firm_id", "status"),
)


def connect(url: str) -> Engine:
    """Open the registry database at ``url`` (``sqlite:///PATH`` or ``postgresql+psycopg://...``)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise RegistryError(
            f"database URL {url!r}: the registry keeps its data in SQLite (sqlite:///PATH) or PostgreSQL "
            "(postgresql+psycopg://USER@HOST/DB)"
        )
    try:
        if url.startswith("sqlite"):
            database = make_url(url).database
            if database and database != ":memory:" and not Path(database).parent.is_dir():
                raise RegistryError(f"database {url!r}: folder {Path(database).parent} does not exist")
            return create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise RegistryError(f"database URL {url!r} is not usable: {exc}") from exc


def upgrade(engine: Engine) -> None:
    """Create or upgrade the registry's tables with its Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise RegistryError(f"cannot create or upgrade the registry database: {exc}") from exc
    missing = {table.name for table in metadata.sorted_tables} - set(inspect(engine).get_table_names())
    if missing:
        raise RegistryError(f"the registry database lacks tables {sorted(missing)} after its migrations")
