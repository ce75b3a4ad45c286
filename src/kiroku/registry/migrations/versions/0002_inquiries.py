"""Rightsholders' inquiries: their domain claims, and the questions they put to firms with the firms' answers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Time = sa.String(32)


def upgrade() -> None:
    """Create the claims and inquiries tables."""
    op.create_table(
        "registry_domain_claims",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("contact", sa.String(300), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("verified_at", Time, nullable=True),
    )
    op.create_index("ix_registry_domain_claims_domain", "registry_domain_claims", ["domain"])
    op.create_table(
        "registry_inquiries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("firm_id", sa.Integer(), sa.ForeignKey("registry_firms.id"), nullable=False),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("registry_domain_claims.id"), nullable=False),
        sa.Column("contact", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("answered_at", Time, nullable=True),
        sa.Column("bundle", sa.Text(), nullable=True),
        sa.Column("verification", sa.Text(), nullable=True),
    )
    op.create_index("ix_registry_inquiries_firm", "registry_inquiries", ["firm_id", "status"])


def downgrade() -> None:
    """Drop the claims and inquiries tables."""
    op.drop_table("registry_inquiries")
    op.drop_table("registry_domain_claims")
