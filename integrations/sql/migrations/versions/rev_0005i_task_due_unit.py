"""ready_task.due_unit and due_region: how the inbox counts the days left

The inbox counted every deadline in working days of the national calendar; a
natural-day limit (补正, 临时救助's 先行救助决定) counts natural days, and a
working-day limit skips the case region's own holidays too, as the case page
counts them. Existing rows: the region is the case's (every clock counts in its
case's region); the unit is working days, except where the task's own open clock
counts natural days (read from the clock's stored body), so such rows are right
now rather than at their case's next step.

Revision ID: 0005i
Revises: 0004t
Create Date: 2026-12-07 15:40:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

# Not "0005": other branches add their own next revisions at the same time;
# the heads are chained (or merged) when the branches meet.
revision = "0005i"
down_revision = "0004t"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ready_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_unit", sa.String(length=16), server_default="working_days", nullable=False))
        batch_op.add_column(sa.Column("due_region", sa.String(), nullable=True))
    op.execute(
        "UPDATE ready_task SET due_region = (SELECT region FROM instance WHERE instance.id = ready_task.instance_id) "
        "WHERE due_at IS NOT NULL"
    )
    _natural_day_tasks()


def _natural_day_tasks() -> None:
    conn = op.get_bind()
    clocks = conn.execute(
        sa.text("SELECT key, body FROM sla_clock WHERE open = :open AND key LIKE 'task:%' AND body LIKE :unit"),
        {"open": True, "unit": "%natural_days%"},
    )
    tasks = [key.removeprefix("task:") for key, body in clocks if json.loads(body).get("unit") == "natural_days"]
    update = sa.text("UPDATE ready_task SET due_unit = 'natural_days' WHERE id IN :ids")
    update = update.bindparams(sa.bindparam("ids", expanding=True))
    for start in range(0, len(tasks), 500):
        conn.execute(update, {"ids": tasks[start : start + 500]})


def downgrade() -> None:
    with op.batch_alter_table("ready_task", schema=None) as batch_op:
        batch_op.drop_column("due_region")
        batch_op.drop_column("due_unit")
