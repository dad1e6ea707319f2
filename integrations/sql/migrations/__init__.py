"""Versioned schema migrations (Alembic).

:func:`upgrade` brings a database to the newest revision. One upgrader at a
time: on PostgreSQL it holds an advisory lock (per schema) for the whole
upgrade, on SQLite the write lock (``BEGIN IMMEDIATE``); whoever comes second
finds the work done. Three cases:

* already at the newest revision — nothing is done (one query);
* a brand-new, empty database — the tables are made from the metadata and the
  newest revision is stamped: thousands of test databases are made this way,
  and ``tests/integrations/sql/test_migrations.py`` proves the revisions make
  exactly the same schema;
* anything else — the revisions are run. A database made before Alembic (our
  tables, no ``alembic_version``) is adopted by the baseline revision, which
  does what the old start-up code did (see :mod:`.pre_alembic`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlmodel import SQLModel

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Outcome:
    before: str | None  # the revision found; None for a new or pre-Alembic database
    after: str
    how: str  # "current", "created" or "migrated"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    # Revision files are modules mypy and ruff check: their names must be identifiers.
    cfg.set_main_option("file_template", "rev_%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    return cfg


@cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    found = scripts().get_current_head()
    assert found is not None, "no revisions"
    return found


def current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _ours(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) & set(SQLModel.metadata.tables)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # Several processes may start at once; the lock ends with the transaction.
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(hashtext('jiuzhu.schema:' || coalesce(current_schema(), '')))"
        )


def upgrade(engine: Engine) -> Outcome:
    with engine.connect() as conn:
        conn.info["write"] = True  # SQLite: BEGIN IMMEDIATE, the database's write lock
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":  # a migration of a big table may take its time
                    conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
                _lock(conn)
                return upgrade_on(conn)
        finally:
            conn.info.pop("write", None)


def upgrade_on(conn: Connection) -> Outcome:
    """On a connection whose transaction (and lock) the caller holds."""
    before, newest = current(conn), head()
    if before == newest:
        return Outcome(before, newest, "current")
    if before is None and not _ours(conn):
        SQLModel.metadata.create_all(conn)
        MigrationContext.configure(conn).stamp(scripts(), newest)
        return Outcome(None, newest, "created")
    cfg = config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")
    return Outcome(before, newest, "migrated")


def run_revisions(conn: Connection, target: str = "head") -> None:
    """Run the revisions themselves, even on an empty database (tests, ``make migration``)."""
    cfg = config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)


def new_revision(engine: Engine, message: str) -> str:
    """Autogenerate a revision from the difference between the revisions and the
    metadata; ``engine`` should be an empty scratch database."""
    with engine.connect() as conn, conn.begin():
        run_revisions(conn)
        cfg = config()
        cfg.attributes["connection"] = conn
        made = command.revision(cfg, message=message, autogenerate=True)
    assert made is not None and not isinstance(made, list)
    return str(made.path)
