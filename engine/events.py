"""The vocabulary every layer speaks: what happened to a case, before the
store numbers and chains it into the audit log (:mod:`engine.audit`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EventDraft:
    """An audit event before the store numbers and chains it."""

    type: str
    payload: dict[str, Any] = field(default_factory=dict)
    task_id: str | None = None
    element_id: str | None = None
    actor: str | None = None
