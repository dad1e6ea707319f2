"""web_session: server-side session records (sign-out, revocation, timeouts)

Revision ID: 0008s
Revises: 0004t
Create Date: 2026-12-07 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# A branch's own id ("0008s"): the lead re-chains revisions of parallel branches at merge.
revision = "0008s"
down_revision = "0007n"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index("ix_web_session_username", ["username"], unique=False)
        batch_op.create_index("ix_web_session_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_index("ix_web_session_created_at")
        batch_op.drop_index("ix_web_session_username")
    op.drop_table("web_session")
