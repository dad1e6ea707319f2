"""The ports: what the engine needs from the outside, as protocols.

The engine speaks only to these; the adapters live in ``integrations``
(``integrations.sql`` for the store and drafts, ``integrations.redis_wakeups``
for the wake-up index)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine.audit import AuditEvent
from engine.runtime.task_facts import TaskFacts
from engine.sla.clocks import SlaClock
from engine.sla.tracker import OverdueAlert


@dataclass(frozen=True)
class DeploymentRecord:
    content_hash: str
    created_at: datetime
    actor: str | None
    files: tuple[tuple[str, bytes], ...]
    documentation_only: tuple[str, ...]


@dataclass(frozen=True)
class VersionRecord:
    process_id: str
    version: int
    deployment_hash: str
    name: str
    created_at: datetime
    definition: dict[str, Any]  # ProcessDefinition as stored (engine.deploy.definitions codec)


@dataclass(frozen=True)
class InstanceRecord:
    id: str
    process_id: str
    version: int
    status: str
    state: str
    revision: int
    created_at: datetime
    updated_at: datetime
    started_by: str | None = None
    incident: dict[str, Any] | None = None
    event_count: int = 0
    head_hash: str = ""
    business_key: str | None = None
    org_unit: str | None = None
    region: str | None = None
    policy: str | None = None


@dataclass(frozen=True)
class TimerRow:
    instance_id: str
    task_id: str
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class TaskRow:
    id: str
    instance_id: str
    process_id: str
    element_id: str
    name: str
    lane: str | None
    ready_at: datetime
    facts: TaskFacts = field(default_factory=TaskFacts)
    assignee: str | None = None


class Unit(Protocol):
    """One database transaction."""

    def find_deployment(self, content_hash: str) -> DeploymentRecord | None: ...
    def add_deployment(self, record: DeploymentRecord, versions: Sequence[VersionRecord]) -> None: ...
    def latest_version(self, process_id: str) -> VersionRecord | None: ...
    def get_version(self, process_id: str, version: int) -> VersionRecord | None: ...
    def list_versions(self, process_id: str | None = None) -> list[VersionRecord]: ...

    def add_instance(self, record: InstanceRecord) -> None: ...
    def get_instance(self, instance_id: str) -> InstanceRecord | None: ...
    def update_instance(self, record: InstanceRecord, *, expected_revision: int) -> bool: ...
    def list_instances(
        self,
        *,
        process_id: str | None,
        status: str | None,
        limit: int,
        org_units: Sequence[str] | None = None,
        offset: int = 0,
    ) -> list[InstanceRecord]:
        """Newest first; ``org_units`` (None: every unit) filters before the page is cut."""
        ...

    def add_applicant_case(self, instance_id: str, process_id: str, id_number: str, *, blocking: bool) -> bool:
        """Remember the applicant's 身份证号 of a case (for the one-open-application rule).
        ``blocking``: while the case is open no other blocking case of ``process_id``
        may hold this number. False (nothing written): the database refused it because
        another open case holds it (a concurrent start won the race)."""
        ...

    def applicant_of(self, instance_id: str) -> str | None:
        """The 身份证号 remembered for a case, if any."""
        ...

    def move_applicant_case(self, instance_id: str, id_number: str) -> bool:
        """The case's applicant 身份证号 changed; False (nothing written) as in
        :meth:`add_applicant_case` when another open case holds the new one."""
        ...

    def open_cases_of(self, process_id: str, id_number: str) -> list[InstanceRecord]:
        """The cases of ``process_id`` still open (running or in incident) for this applicant."""
        ...

    def lock_instances(self, instance_ids: Sequence[str]) -> list[InstanceRecord]:
        """Those of the instances that exist, locked for this transaction; one
        another transaction holds is left out rather than waited for."""
        ...

    def update_instances(self, changes: Sequence[tuple[InstanceRecord, int]]) -> set[str]:
        """``update_instance`` for each (record, expected revision); returns the
        ids written. One whose revision moved is not written and fails no other."""
        ...

    def append_events(self, events: Sequence[AuditEvent]) -> None: ...
    def events(self, chain_id: str) -> Iterator[AuditEvent]: ...
    def chain_ids(self) -> list[str]: ...

    def replace_timers(self, instance_id: str, timers: Sequence[TimerRow]) -> None: ...
    def replace_timers_of(self, instance_ids: Sequence[str], timers: Sequence[TimerRow]) -> None:
        """``replace_timers`` for several instances in one go."""
        ...

    def due_instances(self, now: datetime, limit: int) -> list[str]: ...
    def next_due(self) -> datetime | None: ...
    def wakeups(self) -> list[tuple[str, datetime]]:
        """Every instance with a pending timer and its earliest due time."""
        ...

    def update_ready_tasks(self, instance_id: str, *, added: Sequence[TaskRow], removed: Sequence[str]) -> None: ...
    def ready_tasks(self, instance_id: str) -> list[TaskRow]: ...
    def refresh_task_facts(self, facts: Mapping[str, TaskFacts]) -> None:
        """Rewrite the inbox columns (applicant, deadline …) of ready tasks by id."""
        ...

    def get_ready_task(self, task_id: str) -> TaskRow | None: ...
    def set_assignee(self, task_id: str, assignee: str | None) -> None: ...

    def clocks(self, instance_id: str) -> list[SlaClock]: ...
    def save_clocks(self, instance_id: str, clocks: Sequence[SlaClock]) -> None: ...
    def provisional_instances(self) -> list[str]: ...
    def add_overdue_alerts(self, org_unit: str | None, overdue_alerts: Sequence[OverdueAlert]) -> None: ...
    def resolve_overdue_alerts(self, instance_id: str, clock_keys: Sequence[str], at: datetime) -> None:
        """The 督办 of these clocks is over: their task was done (late)."""
        ...

    def overdue_alerts(
        self,
        *,
        role: str | None = None,
        partner: str | None = None,
        instance_id: str | None = None,
        org_units: Sequence[str] | None = None,
        open_only: bool = True,
        limit: int | None = None,
    ) -> list[dict[str, Any]]: ...
    def closed_clocks(self, since: datetime, until: datetime) -> list[tuple[InstanceRecord, SlaClock]]: ...
    def add_schedule(
        self, *, year: int, region: str | None, version: str, source: str, body: str, actor: str | None, at: datetime
    ) -> None: ...
    def schedules(self) -> list[tuple[str, str]]: ...
    def calendar_generation(self) -> int: ...
    def add_policy(
        self, *, policy_id: str, version: str, digest: str, source: str, body: str, at: datetime
    ) -> bool: ...
    def policies(self) -> list[tuple[str, str]]: ...


class Store(Protocol):
    def unit(self) -> AbstractContextManager[Unit]:
        """A read-write transaction: committed on normal exit, rolled back on error."""
        ...

    def reader(self) -> AbstractContextManager[Unit]:
        """A read-only transaction."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


# -- the wake-up index ---------------------------------------------------------
# The database timer table is the truth. A WakeupIndex (Redis, in the scale-out
# setup) only answers "which instances are due now" faster and shares that work
# between worker processes; it may lose entries at any time, so its
# implementations rebuild from Unit.wakeups.


class WakeupIndex(Protocol):
    def claim_due(self, now: datetime, limit: int) -> list[str]:
        """Instance ids due at ``now``, each handed to exactly one caller."""
        ...

    def schedule(self, instance_id: str, at: datetime | None) -> None:
        """After a commit: the instance's next wake-up, or None for none."""
        ...

    def schedule_many(self, entries: Sequence[tuple[str, datetime | None]]) -> None:
        """:meth:`schedule` for several instances at once (a committed batch)."""
        ...

    def rebuild(self, entries: Sequence[tuple[str, datetime]]) -> None:
        """Replace the index with what the database says."""
        ...


# -- drafts: a user's unfinished form data for a task, kept without completing it --
# The SQL adapter is integrations.sql.drafts; the web form saves Submission.data here.


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
