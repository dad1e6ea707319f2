"""Connecting to SQLite or PostgreSQL, with the settings each needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url

from integrations.sql.budget import DbBudget


def normalize_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, budget: DbBudget | None = None) -> Engine:
    """An engine whose connections carry the budget's timeouts (:mod:`integrations.sql.budget`)."""
    url = normalize_url(url)
    budget = budget or DbBudget()
    if url.startswith("sqlite"):
        busy = budget.busy_seconds
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy})

        @event.listens_for(engine, "connect")
        def _sqlite_setup(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide where transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL is SQLite's recommended setting for WAL: a commit survives
            # a crash of the application; only a power cut or OS crash can roll
            # back the last commits, and neither corrupts the database. FULL
            # would add an fsync to every commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Longer than a transaction's budget: a writer queued behind a
            # runaway step outlasts it instead of failing "database is locked".
            cursor.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # Writers queue at BEGIN instead of failing at their first write
            # with a stale snapshot; readers in WAL mode never wait.
            # On the DB-API connection: through SQLAlchemy this cost 30 µs a step.
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            dbapi.execute("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    parsed = make_url(url)
    given = parsed.query.get("options")  # a search_path, say: kept
    given = " ".join(given) if isinstance(given, tuple) else given
    options = " ".join(filter(None, [given, budget.postgres_options()]))
    return create_engine(
        parsed.difference_update_query(["options"]),
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={"options": options} if options else {},
    )
