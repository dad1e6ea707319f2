"""applicant_case.blocking and a partial unique index: the database refuses a second open application

Revision ID: 0006a
Revises: 0004t
Create Date: 2026-12-07 15:40:00.000000

Until now only the application checked for an open case before inserting;
two starts racing on PostgreSQL could both pass. A row now ``blocking``
(its case open, its procedure allowing one open application per applicant)
takes part in a unique index on (process_id, id_number).

A database may already hold two open cases of one procedure for the same
身份证号 (accepted before this revision). The upgrade must not fail on them:
the oldest open case (by creation time, then id) becomes the one that blocks,
the later ones stay open but do not block (their ``blocking`` is false). The
check before the insert still finds them while they are open.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006a"
down_revision = "0005i"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applicant_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocking", sa.Boolean(), nullable=False, server_default=sa.false()))
    mark_holders(op.get_bind())
    op.create_index(
        "ux_applicant_case_open",
        "applicant_case",
        ["process_id", "id_number"],
        unique=True,
        sqlite_where=sa.text("blocking"),
        postgresql_where=sa.text("blocking"),
    )


def mark_holders(conn: sa.Connection) -> None:
    """``blocking`` for the oldest open case per (procedure, applicant) whose
    version says one open application per applicant."""
    rows = conn.execute(
        sa.text(
            "SELECT a.instance_id, a.process_id, a.id_number, i.version "
            "FROM applicant_case a JOIN instance i ON i.id = a.instance_id "
            "WHERE i.status IN ('running', 'incident') "
            "ORDER BY i.created_at, i.id"
        )
    ).all()
    one_open: dict[tuple[str, int], bool] = {}
    held: set[tuple[str, str]] = set()
    holders: list[str] = []
    for instance_id, process_id, id_number, version in rows:
        key = (process_id, version)
        if key not in one_open:
            one_open[key] = _one_open(conn, process_id, version)
        if one_open[key] and (process_id, id_number) not in held:
            held.add((process_id, id_number))
            holders.append(instance_id)
    if holders:
        statement = sa.text("UPDATE applicant_case SET blocking = :yes WHERE instance_id = :id")
        conn.execute(statement, [{"yes": True, "id": h} for h in holders])


def _one_open(conn: sa.Connection, process_id: str, version: int) -> bool:
    found = conn.execute(
        sa.text("SELECT definition FROM process_version WHERE process_id = :p AND version = :v"),
        {"p": process_id, "v": version},
    ).scalar_one_or_none()
    if found is None:
        return False
    definition: Any = json.loads(found)
    return isinstance(definition, dict) and definition.get("one_open_per_applicant") is True


def downgrade() -> None:
    op.drop_index("ux_applicant_case_open", table_name="applicant_case")
    with op.batch_alter_table("applicant_case", schema=None) as batch_op:
        batch_op.drop_column("blocking")
