"""The ledger: log state, leaves, interior nodes, bodies and checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Index64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "leaves",
        sa.Column("idx", Index64, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("body_sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "nodes",
        sa.Column("ord", Index64, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "bodies",
        sa.Column("idx", Index64, primary_key=True, autoincrement=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.String(32), nullable=True),
        sa.Column("expired_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "checkpoints",
        sa.Column("size", Index64, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in ("checkpoints", "bodies", "nodes", "leaves", "log_state"):
        op.drop_table(table)
