"""The draft port: a user's unfinished form data for a task, kept without completing it.

The SQL adapter is ``integrations.sql.drafts``; the web form saves ``Submission.data`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Draft:
    task_id: str
    username: str
    data: dict[str, Any]  # as parsed, possibly invalid: a draft is not validated
    saved_at: datetime
    instance_id: str | None = None


class DraftStore(Protocol):
    def save(self, draft: Draft) -> None:
        """Keep ``draft``, replacing this user's earlier draft of the task."""

    def load(self, task_id: str, username: str) -> Draft | None: ...

    def discard(self, task_id: str, username: str) -> None:
        """Forget the draft (the task was completed, or the user started over)."""
