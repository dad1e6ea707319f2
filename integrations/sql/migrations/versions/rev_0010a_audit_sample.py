"""audit_sample: each 入户抽查 sample as drawn (seed, parameters, who, when, the cases chosen)

Revision ID: 0010a
Revises: 0009d
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010a"
down_revision = "0009d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_sample",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("seed", sa.String(length=40), nullable=False),
        sa.Column("org_unit", sa.String(), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("instance_ids", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_sample", schema=None) as batch_op:
        batch_op.create_index("ix_audit_sample_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_audit_sample_org_unit", ["org_unit"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_sample", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_sample_org_unit")
        batch_op.drop_index("ix_audit_sample_created_at")
    op.drop_table("audit_sample")
