"""Firing the timers of many due instances in one transaction.

A sweep finds tens of instances due at once; stepping each in its own
transaction costs a commit, a row read and a handful of statements per
instance, which is most of a firing's time. Here one transaction locks the
batch's rows with one read, steps each instance in memory exactly as
:meth:`engine.service.facade.Engine.wake` would, and writes them together: every
instance row through its own revision guard, then the timer rows and the
audit events of all winners in one statement each.

Guarantees are those of one-by-one firing:

* each instance is guarded by its own revision. One that loses (or whose row
  another transaction holds: it is not even read) is left out of the batch's
  writes — its SLA writes are held back until its guard passes — and handed
  back to be woken on its own, after the batch committed; the SLA writes of
  an instance with nothing to commit are made at once, as a lone step would;
* anything unexpected while stepping an instance rolls the whole batch back,
  and every instance is then woken on its own, so a failure surfaces exactly
  where it did before;
* the wake-up index is told only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from engine.audit import GENESIS, AuditEvent, seal
from engine.ports import InstanceRecord, TaskRow, TimerRow, Unit
from engine.runtime.connectors import collecting_starts
from engine.runtime.run import InstanceRun
from engine.runtime.task_facts import TaskFacts, facts_for
from engine.runtime.tasks import ReadyTask
from engine.sla.clocks import SlaClock
from engine.sla.functions import sla_context

if TYPE_CHECKING:
    from engine.service.facade import Engine


@dataclass
class _HeldBack:
    """A unit whose SLA writes wait until the instance has won its guard."""

    unit: Unit
    writes: list[Callable[[Unit], None]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unit, name)

    def save_clocks(self, instance_id: str, clocks: Sequence[Any]) -> None:
        self.writes.append(lambda unit: unit.save_clocks(instance_id, clocks))

    def add_supervisions(self, org_unit: str | None, supervisions: Sequence[Any]) -> None:
        self.writes.append(lambda unit: unit.add_supervisions(org_unit, supervisions))

    def resolve_supervisions(self, instance_id: str, clock_keys: Sequence[str], at: datetime) -> None:
        self.writes.append(lambda unit: unit.resolve_supervisions(instance_id, clock_keys, at))


@dataclass
class _Step:
    record: InstanceRecord
    next_wake: datetime | None
    updated: InstanceRecord | None = None  # None: nothing changed, nothing to write
    events: list[AuditEvent] = field(default_factory=list)
    timers: list[TimerRow] | None = None  # None: the timer rows stay as they are
    ready_added: list[TaskRow] = field(default_factory=list)
    ready_removed: list[str] = field(default_factory=list)
    facts_kept: dict[str, TaskFacts] = field(default_factory=dict)
    held_back: list[Callable[[Unit], None]] = field(default_factory=list)
    alone: bool = False  # to be stepped by Engine._step (see _step)


@dataclass
class BatchOutcome:
    fired: int = 0  # instances changed and committed
    schedule: list[tuple[str, datetime | None]] = field(default_factory=list)  # for the wake-up index
    alone: list[str] = field(default_factory=list)  # to be woken one by one


def stepped(
    record: InstanceRecord, run: InstanceRun, state: str, events: Sequence[AuditEvent], now: datetime
) -> InstanceRecord:
    """The instance row after a step that wrote ``events``."""
    return replace(
        record,
        status=run.status,
        state=state,
        revision=record.revision + 1,
        updated_at=now,
        incident=run.incident.to_dict() if run.incident else None,
        event_count=record.event_count + len(events),
        head_hash=events[-1].hash if events else record.head_hash,
    )


def ready_rows(
    record: InstanceRecord,
    run: InstanceRun,
    ready: Sequence[ReadyTask],
    data: Mapping[str, Any],
    before: set[str],
    clocks: Sequence[SlaClock],
    now: datetime,
) -> tuple[list[TaskRow], list[str], dict[str, TaskFacts]]:
    """The ready-task index after a step (``ready`` and ``data`` are the run's
    after it): rows to add (with their inbox facts), ids to remove, and fresh
    facts for the tasks still waiting (a pause or an extension moves their
    deadline)."""
    facts = {
        t.id: facts_for(
            t.id, run.task_data(t.id), data, org_unit=record.org_unit, business_key=record.business_key, clocks=clocks
        )
        for t in ready
    }
    added = [
        TaskRow(t.id, record.id, record.process_id, t.element_id, t.name, t.lane, now, facts[t.id])
        for t in ready
        if t.id not in before
    ]
    removed = sorted(before - set(facts))
    return added, removed, {tid: f for tid, f in facts.items() if tid in before}


def _step(engine: Engine, unit: Unit, record: InstanceRecord, now: datetime) -> _Step:
    run: InstanceRun = engine._load(unit, record)
    ready_before = {t.id for t in run.ready_tasks()}
    timers_before = run.waiting_timers()
    # As in Engine._step: what a timer sets off happened when it was due.
    due = [t.due_at for t in timers_before if t.due_at <= now]
    event_time = min(due) if due else now
    held = _HeldBack(unit)
    with (
        sla_context(engine.sla.context(unit, record, event_time)),
        collecting_starts(engine._deployed(unit)) as starts,
    ):
        drafts = run.fire_timers(now=now)
    # Only Engine._step starts other processes and runs the commit hooks
    # (partner handoffs) for tasks that became ready: leave those to it.
    if starts or (engine.commit_hooks and {t.id for t in run.ready_tasks()} != ready_before):
        return _Step(record, None, alone=True)
    sla_events, clocks = engine.sla.step(cast(Unit, held), record, run, event_time)
    drafts += sla_events
    moments = [t.due_at for t in run.waiting_timers()]
    moments += [m for m in (c.next_check() for c in clocks) if m is not None]
    step = _Step(record, min(moments, default=None), held_back=held.writes)
    state = run.dump()
    if not drafts and state == record.state and run.status == record.status:
        return step
    step.events = seal(record.id, drafts, after_seq=record.event_count, prev_hash=record.head_hash or GENESIS, at=now)
    step.updated = stepped(record, run, state, step.events, now)
    timers = run.waiting_timers()
    if timers != timers_before:
        step.timers = [TimerRow(record.id, t.task_id, t.element_id, t.due_at) for t in timers]
    step.ready_added, step.ready_removed, step.facts_kept = ready_rows(
        record, run, run.ready_tasks(), run.data(), ready_before, clocks, now
    )
    return step


def fire_batch(engine: Engine, instance_ids: Sequence[str], now: datetime) -> BatchOutcome:
    """Fire what is due on ``instance_ids`` in one transaction."""
    from engine.service.facade import SYSTEM_CHAIN  # engine.service imports this module

    outcome = BatchOutcome()
    with engine.store.unit() as unit:
        records = {r.id: r for r in unit.lock_instances(instance_ids) if r.id != SYSTEM_CHAIN}
        # Missing, or held by another transaction (a task being completed):
        # woken alone, which waits for the row or reports it gone.
        outcome.alone = [i for i in instance_ids if i not in records]
        stepped_all = [_step(engine, unit, records[i], now) for i in instance_ids if i in records]
        outcome.alone += [s.record.id for s in stepped_all if s.alone]
        steps = [s for s in stepped_all if not s.alone]
        changed = [s for s in steps if s.updated is not None]
        won = unit.update_instances([(s.updated, s.record.revision) for s in changed if s.updated is not None])
        winners = [s for s in changed if s.record.id in won]
        outcome.alone += [s.record.id for s in changed if s.record.id not in won]
        # The rows are locked (or, on SQLite, the database is): an instance
        # with nothing to commit may still write its clocks, as in Engine._step.
        for s in [s for s in steps if s.updated is None] + winners:
            for write in s.held_back:
                write(unit)
        for s in winners:
            if s.ready_added or s.ready_removed:
                unit.update_ready_tasks(s.record.id, added=s.ready_added, removed=s.ready_removed)
            if s.facts_kept:
                unit.refresh_task_facts(s.facts_kept)
        retimed = [s for s in winners if s.timers is not None]
        if retimed:
            unit.replace_timers_of([s.record.id for s in retimed], [t for s in retimed for t in s.timers or []])
        # Last, so that the events are written as close to the commit as can be.
        unit.append_events([e for s in winners for e in s.events])
    outcome.fired = len(winners)
    outcome.schedule = [(s.record.id, s.next_wake) for s in steps if s.updated is None or s.record.id in won]
    return outcome
