"""The SQL adapter of the storage port: SQLite (embedded) or PostgreSQL."""

from integrations.sql.store import SqlStore, make_engine

__all__ = ["SqlStore", "make_engine"]
