"""The inbox's vocabulary: deadline states, sorts and views. What a query
asks for and what a row shows are the inbox port (:mod:`integrations.ports`);
the SQL adapter (``integrations.sql.inbox``) answers it from the ready-task
index alone."""

from __future__ import annotations

STATES = ("on_time", "warning", "overdue", "paused", "provisional", "none")
SORTS = ("due", "ready", "process")
VIEWS = ("all", "mine", "unclaimed")
