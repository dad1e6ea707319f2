"""A throw-away store held in memory, for re-executing one case (:mod:`engine.replay`).

It implements the :class:`~engine.ports.Unit` protocol with plain dicts, so a
replay runs the very step pipeline the case ran through without a database:
no SQL, no I/O, nothing shared with the live system. Transactions are not
isolated (a replay is single-threaded and thrown away afterwards); a step that
raises leaves what it wrote, which no replay reads again because the replay
stops at the first refusal.

The calendar schedules are the ones *in force* at the replay clock's moment:
each comes with the time it was loaded, so a schedule loaded after an event
does not govern that event's replay (a later, lawful calendar load does not
make older cases disagree).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.audit import AuditEvent
from engine.clock import Clock
from engine.ports import DeploymentRecord, InstanceRecord, TaskRow, TimerRow, VersionRecord
from engine.runtime.task_facts import TaskFacts
from engine.sla.clocks import SlaClock
from engine.sla.tracker import OverdueAlert


@dataclass(frozen=True)
class ScheduleLoad:
    """One holiday schedule as loaded (``calendar_schedule``): when, and its text."""

    loaded_at: datetime
    source: str
    body: str


@dataclass
class MemoryUnit:
    clock: Clock
    versions: dict[tuple[str, int], VersionRecord] = field(default_factory=dict)
    schedule_loads: list[ScheduleLoad] = field(default_factory=list)
    policy_rows: list[tuple[str, str]] = field(default_factory=list)
    instances: dict[str, InstanceRecord] = field(default_factory=dict)
    chains: dict[str, list[AuditEvent]] = field(default_factory=dict)
    timers: dict[str, list[TimerRow]] = field(default_factory=dict)
    ready: dict[str, TaskRow] = field(default_factory=dict)
    sla_clocks: dict[str, dict[str, SlaClock]] = field(default_factory=dict)
    applicants: dict[str, tuple[str, str]] = field(default_factory=dict)  # instance → (process, 身份证号)

    # -- deployments -------------------------------------------------------------------

    def find_deployment(self, content_hash: str) -> DeploymentRecord | None:
        return None

    def add_deployment(self, record: DeploymentRecord, versions: Sequence[VersionRecord]) -> None:
        for version in versions:
            self.versions[(version.process_id, version.version)] = version

    def latest_version(self, process_id: str) -> VersionRecord | None:
        found = [v for (pid, _), v in self.versions.items() if pid == process_id]
        return max(found, key=lambda v: v.version, default=None)

    def get_version(self, process_id: str, version: int) -> VersionRecord | None:
        return self.versions.get((process_id, version))

    def list_versions(self, process_id: str | None = None) -> list[VersionRecord]:
        return [v for (pid, _), v in sorted(self.versions.items()) if process_id in (None, pid)]

    # -- instances ---------------------------------------------------------------------

    def add_instance(self, record: InstanceRecord) -> None:
        self.instances[record.id] = record

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        return self.instances.get(instance_id)

    def update_instance(self, record: InstanceRecord, *, expected_revision: int) -> bool:
        current = self.instances.get(record.id)
        if current is None or current.revision != expected_revision:
            return False
        self.instances[record.id] = record
        return True

    def list_instances(
        self,
        *,
        process_id: str | None,
        status: str | None,
        limit: int,
        org_units: Sequence[str] | None = None,
        offset: int = 0,
    ) -> list[InstanceRecord]:
        found = [
            r
            for r in self.instances.values()
            if process_id in (None, r.process_id)
            and status in (None, r.status)
            and (org_units is None or r.org_unit in org_units)
        ]
        return sorted(found, key=lambda r: r.created_at, reverse=True)[offset : offset + limit]

    def add_applicant_case(self, instance_id: str, process_id: str, id_number: str, *, blocking: bool) -> bool:
        self.applicants[instance_id] = (process_id, id_number)
        return True

    def applicant_of(self, instance_id: str) -> str | None:
        held = self.applicants.get(instance_id)
        return held[1] if held else None

    def move_applicant_case(self, instance_id: str, id_number: str) -> bool:
        process_id = self.applicants.get(instance_id, ("", ""))[0]
        self.applicants[instance_id] = (process_id, id_number)
        return True

    def open_cases_of(self, process_id: str, id_number: str) -> list[InstanceRecord]:
        # One case per replay: no other application can be open.
        return []

    def lock_instances(self, instance_ids: Sequence[str]) -> list[InstanceRecord]:
        return [self.instances[i] for i in instance_ids if i in self.instances]

    def update_instances(self, changes: Sequence[tuple[InstanceRecord, int]]) -> set[str]:
        return {r.id for r, rev in changes if self.update_instance(r, expected_revision=rev)}

    # -- events, timers, ready tasks -------------------------------------------------------

    def append_events(self, events: Sequence[AuditEvent]) -> None:
        for event in events:
            self.chains.setdefault(event.chain_id, []).append(event)

    def events(self, chain_id: str) -> Iterator[AuditEvent]:
        return iter(list(self.chains.get(chain_id, [])))

    def chain_ids(self) -> list[str]:
        return sorted(self.chains)

    def replace_timers(self, instance_id: str, timers: Sequence[TimerRow]) -> None:
        self.timers[instance_id] = list(timers)

    def replace_timers_of(self, instance_ids: Sequence[str], timers: Sequence[TimerRow]) -> None:
        for instance_id in instance_ids:
            self.timers[instance_id] = [t for t in timers if t.instance_id == instance_id]

    def due_instances(self, now: datetime, limit: int) -> list[str]:
        return [i for i, rows in self.timers.items() if any(t.due_at <= now for t in rows)][:limit]

    def next_due(self) -> datetime | None:
        return min((t.due_at for rows in self.timers.values() for t in rows), default=None)

    def wakeups(self) -> list[tuple[str, datetime]]:
        return [(i, min(t.due_at for t in rows)) for i, rows in self.timers.items() if rows]

    def update_ready_tasks(self, instance_id: str, *, added: Sequence[TaskRow], removed: Sequence[str]) -> None:
        for task_id in removed:
            self.ready.pop(task_id, None)
        for row in added:
            self.ready[row.id] = row

    def ready_tasks(self, instance_id: str) -> list[TaskRow]:
        return [r for r in self.ready.values() if r.instance_id == instance_id]

    def refresh_task_facts(self, facts: Mapping[str, TaskFacts]) -> None:
        for task_id, fact in facts.items():
            if task_id in self.ready:
                self.ready[task_id] = replace(self.ready[task_id], facts=fact)

    def get_ready_task(self, task_id: str) -> TaskRow | None:
        return self.ready.get(task_id)

    def set_assignee(self, task_id: str, assignee: str | None) -> None:
        if task_id in self.ready:
            self.ready[task_id] = replace(self.ready[task_id], assignee=assignee)

    # -- SLA ---------------------------------------------------------------------------------

    def clocks(self, instance_id: str) -> list[SlaClock]:
        return list(self.sla_clocks.get(instance_id, {}).values())

    def save_clocks(self, instance_id: str, clocks: Sequence[SlaClock]) -> None:
        held = self.sla_clocks.setdefault(instance_id, {})
        for clock in clocks:
            held[clock.key] = clock

    def provisional_instances(self) -> list[str]:
        return [i for i, held in self.sla_clocks.items() if any(c.open and c.provisional for c in held.values())]

    def add_overdue_alerts(self, org_unit: str | None, overdue_alerts: Sequence[OverdueAlert]) -> None:
        return None  # 督办 rows are the live system's work list; their events are on the chain

    def resolve_overdue_alerts(self, instance_id: str, clock_keys: Sequence[str], at: datetime) -> None:
        return None

    def overdue_alerts(self, **_filters: Any) -> list[dict[str, Any]]:
        return []

    def closed_clocks(self, since: datetime, until: datetime) -> list[tuple[InstanceRecord, SlaClock]]:
        return []

    def add_schedule(
        self, *, year: int, region: str | None, version: str, source: str, body: str, actor: str | None, at: datetime
    ) -> None:
        self.schedule_loads.append(ScheduleLoad(at, source, body))

    def schedules(self) -> list[tuple[str, str]]:
        now = self.clock.now()
        return [(s.source, s.body) for s in self.schedule_loads if s.loaded_at <= now]

    def calendar_generation(self) -> int:
        now = self.clock.now()
        return sum(1 for s in self.schedule_loads if s.loaded_at <= now)

    def add_policy(self, *, policy_id: str, version: str, digest: str, source: str, body: str, at: datetime) -> bool:
        self.policy_rows.append((source, body))
        return True

    def policies(self) -> list[tuple[str, str]]:
        return list(self.policy_rows)


class MemoryStore:
    """One :class:`MemoryUnit` behind the :class:`~engine.ports.Store` protocol."""

    def __init__(self, unit: MemoryUnit) -> None:
        self.memory = unit

    @contextmanager
    def unit(self) -> Iterator[MemoryUnit]:
        yield self.memory

    @contextmanager
    def reader(self) -> Iterator[MemoryUnit]:
        yield self.memory

    def close(self) -> None:
        return None
