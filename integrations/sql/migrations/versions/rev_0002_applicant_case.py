"""applicant_case: the applicant id number of each case, for the one-open-application rule

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 13:13:43.792881
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applicant_case",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("process_id", sa.String(), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    with op.batch_alter_table("applicant_case", schema=None) as batch_op:
        batch_op.create_index("ix_applicant_case_lookup", ["process_id", "id_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("applicant_case", schema=None) as batch_op:
        batch_op.drop_index("ix_applicant_case_lookup")

    op.drop_table("applicant_case")
