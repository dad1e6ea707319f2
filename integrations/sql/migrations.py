"""Changes to existing databases that ``create_all`` cannot make.

``create_all`` makes missing tables and :meth:`SqlStore._add_missing_columns`
adds missing columns, but neither changes a constraint. A database made
before 督办 went to several roles still has the supervision table's old
unique key (instance, clock, due date) — which would refuse the second
role's row — so it is swapped for the key that includes the role.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlalchemy.schema import CreateTable

from integrations.sql.tables import SUPERVISION_KEY, SupervisionRow

OLD_SUPERVISION_KEY = ["instance_id", "clock_key", "due_on"]


def rekey_supervision(engine: Engine) -> None:
    table = SupervisionRow.__table__  # type: ignore[attr-defined]
    found = inspect(engine).get_unique_constraints(table.name)
    old = [u for u in found if u["column_names"] == OLD_SUPERVISION_KEY]
    if not old:
        return
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            # SQLite cannot drop a constraint: the table is rebuilt around its rows.
            columns = ", ".join(f'"{c.name}"' for c in table.columns)
            conn.exec_driver_sql(f'ALTER TABLE "{table.name}" RENAME TO "{table.name}_old"')
            for index in table.indexes:
                conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
            conn.execute(CreateTable(table))
            for index in table.indexes:
                index.create(conn)
            conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{table.name}_old"')
            conn.exec_driver_sql(f'DROP TABLE "{table.name}_old"')
            return
        for constraint in old:
            conn.exec_driver_sql(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{constraint["name"]}"')
        keys = ", ".join(f'"{c}"' for c in [*OLD_SUPERVISION_KEY, "role"])
        conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD CONSTRAINT "{SUPERVISION_KEY}" UNIQUE ({keys})')
