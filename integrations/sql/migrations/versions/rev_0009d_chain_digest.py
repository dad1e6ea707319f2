"""chain_digest: signed digests of every audit chain's head

Revision ID: 0009d
Revises: 0004t (to be re-chained onto 0008s when merged)
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009d"
down_revision = "0008s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("leaves", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chain_digest", schema=None) as batch_op:
        batch_op.create_index("ix_chain_digest_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chain_digest", schema=None) as batch_op:
        batch_op.drop_index("ix_chain_digest_created_at")
    op.drop_table("chain_digest")
