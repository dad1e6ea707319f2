"""notice_number: the 文号 of each printed notice, a per-issuer, per-year sequence

Revision ID: 0007n
Revises: 0004t
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Named with a letter, as 0004t: other branches add their own next revisions at the same time.
revision = "0007n"
down_revision = "0006a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("decision_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "year", "seq", name="uq_notice_number_issuer_year_seq"),
        sa.UniqueConstraint("instance_id", "decision_seq", "kind", name="uq_notice_number_notice"),
    )
    with op.batch_alter_table("notice_number", schema=None) as batch_op:
        batch_op.create_index("ix_notice_number_instance_id", ["instance_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_number", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_number_instance_id")
    op.drop_table("notice_number")
