"""Adopting a database made before Alembic (tables, no ``alembic_version``).

Releases before Alembic made the schema at start-up: ``create_all`` made the
missing tables, ``_add_missing_columns`` added missing columns (always
nullable) and ``rekey_supervision`` swapped the supervision table's unique key.
Tables, columns and indexes were only ever added, so such a database holds a
subset of the baseline; the baseline revision runs through :class:`Adopter`,
which makes what is missing — the same outcome as on a new database:

* a missing table is created, with its indexes;
* a missing column is added; a NOT NULL one is filled from :data:`FILL`
  first (also when the old start-up code had added it nullable);
* a missing index is created (the old code never added indexes to an
  existing table: ``ix_instance_org_unit``, the ``ready_task`` inbox indexes,
  ``ix_supervision_partner``);
* :func:`rekey_supervision`: the supervision key of the releases before 督办
  went to several roles, (instance, clock, due date), becomes the key with the
  role — it would refuse the second role's row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

# Values for NOT NULL columns added to tables that already have rows.
FILL: dict[tuple[str, str], Any] = {
    ("ready_task", "paused"): False,
    ("ready_task", "provisional"): False,
}

OLD_OVERDUE_ALERT_KEY = ["instance_id", "clock_key", "due_on"]
OVERDUE_ALERT_KEY = "uq_supervision_target"


class Adopter:
    """Creates tables and indexes like ``op.create_table``/``op.create_index``
    on a new database; on a pre-Alembic one, makes only what is missing."""

    def __init__(self) -> None:
        self.inspector = sa.inspect(op.get_bind())
        self.existing = set(self.inspector.get_table_names())
        self.created: set[str] = set()

    def table(self, name: str, *elements: Any) -> None:
        if name not in self.existing:
            op.create_table(name, *elements)
            self.created.add(name)
            return
        columns = [e for e in elements if isinstance(e, sa.Column)]
        have = {c["name"]: c for c in self.inspector.get_columns(name)}
        missing = [c for c in columns if c.name not in have]
        if missing:
            with op.batch_alter_table(name) as batch:
                for column in missing:
                    batch.add_column(sa.Column(column.name, column.type, nullable=True))
        keys = set(self.inspector.get_pk_constraint(name)["constrained_columns"])  # SQLite may call them nullable
        tighten = [c for c in columns if not c.nullable and (c.name not in have or have[c.name]["nullable"])]
        tighten = [c for c in tighten if c.name not in keys]
        if not tighten:
            return
        for column in tighten:
            if (name, column.name) not in FILL:
                raise RuntimeError(f"no value to fill {name}.{column.name} (NOT NULL) in an older database")
            op.execute(
                sa.text(f'UPDATE "{name}" SET "{column.name}" = :value WHERE "{column.name}" IS NULL').bindparams(
                    sa.bindparam("value", FILL[(name, column.name)], type_=column.type)
                )
            )
        with op.batch_alter_table(name) as batch:
            for column in tighten:
                batch.alter_column(column.name, existing_type=column.type, nullable=False)

    def index(self, name: str, table: str, columns: list[str], *, unique: bool = False) -> None:
        if table in self.existing and table not in self.created:
            if name in {i["name"] for i in self.inspector.get_indexes(table)}:
                return
        op.create_index(name, table, columns, unique=unique)


def rekey_overdue_alerts(adopter: Adopter, table: sa.Table) -> None:
    """``table``: the supervision table as the baseline declares it."""
    if "supervision" not in adopter.existing:
        return
    found = adopter.inspector.get_unique_constraints("supervision")
    old = [u for u in found if u["column_names"] == OLD_OVERDUE_ALERT_KEY]
    if not old:
        return
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a constraint (and this one has no name): the
        # table is rebuilt from the baseline's declaration, rows copied over.
        with op.batch_alter_table("supervision", copy_from=table, recreate="always"):
            pass
        return
    for constraint in old:
        op.drop_constraint(str(constraint["name"]), "supervision", type_="unique")
    op.create_unique_constraint(OVERDUE_ALERT_KEY, "supervision", [*OLD_OVERDUE_ALERT_KEY, "role"])
