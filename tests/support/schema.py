"""What the schema looked like before Alembic, for tests that make such a database."""

from sqlalchemy import Connection

# Tables that revisions after the baseline create: no release before Alembic had them.
SINCE_BASELINE = frozenset(
    {
        "applicant_case",
        "demo_clock",
        "api_token",
        "notice_number",
        "web_session",
        "chain_digest",
        "audit_sample",
        "studio_draft",
    }
)
# Columns that revisions after the baseline add to the baseline's tables (table, column).
COLUMNS_SINCE_BASELINE = frozenset({("ready_task", "due_unit"), ("ready_task", "due_region")})


def drop_columns_since_baseline(conn: Connection) -> None:
    """Take today's columns that no release before Alembic had off a database made from today's tables."""
    for table, column in sorted(COLUMNS_SINCE_BASELINE):
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
