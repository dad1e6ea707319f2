"""The SQL adapter of the storage port: SQLite (embedded) or PostgreSQL."""

from integrations.sql import digests, partner_tables, throttle, token_tables  # noqa: F401  (registers their tables with the metadata)
from integrations.sql.connect import make_engine
from integrations.sql.store import SqlStore

__all__ = ["SqlStore", "make_engine"]
