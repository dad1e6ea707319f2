"""The inbox: what a query asks for and what a row shows. The SQL adapter
(``integrations.sql.inbox``) answers it from the ready-task index alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

STATES = ("on_time", "warning", "overdue", "paused", "provisional", "none")
SORTS = ("due", "ready", "process")
VIEWS = ("all", "mine", "unclaimed")


@dataclass(frozen=True)
class InboxQuery:
    me: str
    now: datetime
    lanes: tuple[str, ...] | None  # None: every lane (admin)
    scope: tuple[str, ...] | None  # org unit codes; None: every unit
    partner: str | None = None  # only this partner department's handoffs
    view: str = "all"
    state: str | None = None
    process_id: str | None = None
    org_unit: str | None = None
    search: str | None = None
    sort: str = "due"
    descending: bool = False
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class InboxRow:
    id: str
    instance_id: str
    process_id: str
    element_id: str
    name: str
    lane: str | None
    ready_at: datetime
    assignee: str | None
    org_unit: str | None
    business_key: str | None
    applicant_name: str | None
    id_masked: str | None
    stage: str | None
    due_at: datetime | None
    state: str


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # per state, before the state filter


class Inbox(Protocol):
    def query(self, q: InboxQuery) -> InboxPage: ...
