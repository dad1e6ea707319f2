"""Alembic environment: run by :func:`integrations.sql.migrations.upgrade` (on the
connection it passes, inside its transaction and lock) and by ``make migration``.
There is no alembic.ini: the configuration is built in Python."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import integrations.sql  # noqa: F401  (registers every table with the metadata)


def run() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported: run `jiuzhu db upgrade`")
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite changes most constraints only by rebuilding the table
        compare_type=True,
        user_module_prefix="sqlmodel.sql.sqltypes.",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
