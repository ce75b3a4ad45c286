"""The registry: its state, firms and their tokens, filings, checkpoints, administrators and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Time = sa.String(32)


def upgrade() -> None:
    """Create the registry's tables."""
    op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("witness_key", sa.Text(), nullable=False),
        sa.Column("session_secret", sa.String(128), nullable=False),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "registry_firms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(300), nullable=False),
        sa.Column("key", sa.String(400), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flag_reason", sa.Text(), nullable=True),
        sa.Column("registered_at", Time, nullable=False),
        sa.Column("decided_at", Time, nullable=True),
    )
    op.create_table(
        "registry_firm_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("firm_id", sa.Integer(), sa.ForeignKey("registry_firms.id"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_at", Time, nullable=True),
    )
    op.create_table(
        "registry_filings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("firm_id", sa.Integer(), sa.ForeignKey("registry_firms.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ledger_size", sa.Integer(), nullable=False),
        sa.Column("ledger_root", sa.String(64), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.UniqueConstraint("firm_id", "kind", "year", "version", name="uq_registry_filings_version"),
    )
    op.create_index("ix_registry_filings_year", "registry_filings", ["year", "kind"])
    op.create_table(
        "registry_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("firm_id", sa.Integer(), sa.ForeignKey("registry_firms.id"), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cosigned", sa.Text(), nullable=True),
        sa.Column("consistent", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("received_at", Time, nullable=False),
    )
    op.create_index("ix_registry_checkpoints_firm", "registry_checkpoints", ["firm_id", "size"])
    op.create_table(
        "registry_admins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "registry_audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", Time, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    """Drop the registry's tables."""
    for table in (
        "registry_audit_log",
        "registry_admins",
        "registry_checkpoints",
        "registry_filings",
        "registry_firm_tokens",
        "registry_firms",
        "registry_state",
    ):
        op.drop_table(table)
