"""The ports of the application's own stores, next to the engine's
(:mod:`engine.ports`): accounts (users and org units) and the inbox query.
The engine knows neither; the SQL adapters (``integrations.sql.accounts``,
``integrations.sql.inbox``) implement them and ``jiuzhu`` uses them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# -- accounts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgUnit:
    code: str
    name: str
    kind: str
    parent: str | None = None
    region: str | None = None
    department: str | None = None


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    roles: tuple[str, ...]
    org_unit: str
    password_hash: str = field(default="", repr=False)
    active: bool = True

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


class AccountStore(Protocol):
    def org_units(self) -> list[OrgUnit]: ...
    def users(self) -> list[User]: ...
    def find_user(self, username: str) -> User | None: ...
    def save_org_units(self, units: Sequence[OrgUnit]) -> None: ...
    def save_users(self, users: Sequence[User]) -> None: ...


# -- the inbox -----------------------------------------------------------------------------


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
    due_unit: str = "working_days"  # what the days left to due_at count: working_days or natural_days
    due_region: str | None = None  # whose holidays those working days skip (the case's region)


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # per state, before the state filter


class Inbox(Protocol):
    def query(self, q: InboxQuery) -> InboxPage: ...
