"""An index on leaves.kind, so that records of one kind (sources, runs, stages) are found without a scan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_leaves_kind", "leaves", ["kind", "idx"])


def downgrade() -> None:
    op.drop_index("ix_leaves_kind", table_name="leaves")
