"""The SQL adapter of the storage port: SQLite (embedded) or PostgreSQL."""

from integrations.sql import (  # noqa: F401  (registers their tables with the metadata)
    audit_samples,
    digests,
    notice_tables,
    partner_tables,
    session_tables,
    studio_tables,
    throttle,
    token_tables,
)
from integrations.sql.connect import make_engine
from integrations.sql.store import SqlStore

__all__ = ["SqlStore", "make_engine"]
