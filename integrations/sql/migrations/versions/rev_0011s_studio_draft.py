"""studio_draft: the designer studio's drafts, one per procedure and designer

Revision ID: 0011s
Revises: 0010a
Create Date: 2026-12-07 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011s"
down_revision = "0010a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studio_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=64), nullable=False),
        sa.Column("designer", sa.String(length=64), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_id", "designer"),
    )
    with op.batch_alter_table("studio_draft", schema=None) as batch_op:
        batch_op.create_index("ix_studio_draft_process_id", ["process_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("studio_draft", schema=None) as batch_op:
        batch_op.drop_index("ix_studio_draft_process_id")
    op.drop_table("studio_draft")
