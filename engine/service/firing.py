"""Firing timers: one instance at a time, or many due instances in one transaction.

A sweep finds tens of instances due at once; stepping each in its own
transaction costs a commit, a row read and a handful of statements per
instance, which is most of a firing's time. :func:`fire_batch` locks the
batch's rows with one read, runs each instance through the step pipeline's
:func:`~engine.service.stepping.advance` and
:func:`~engine.service.stepping.settle` in memory, and writes them together:
every instance row through its own revision guard, then the timer rows and
the audit events of all winners in one statement each.

Guarantees are those of one-by-one firing (:func:`wake`):

* each instance is guarded by its own revision. One that loses (or whose row
  another transaction holds: it is not even read) is left out of the batch's
  writes — its SLA writes are held back until its guard passes — and handed
  back to be woken on its own, after the batch committed; the SLA writes of
  an instance with nothing to commit are made at once, as a lone step would;
* an instance whose firing starts other processes, or changes its ready
  tasks while commit hooks (partner handoffs) are installed, is woken on its
  own: those write outside the instance's guard;
* anything unexpected while stepping an instance rolls the whole batch back,
  and every instance is then woken on its own, so a failure surfaces exactly
  where it did before;
* the wake-up index is told only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from engine.errors import ConflictError, NotFoundError, TransactionTimeout
from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit
from engine.runtime.run import InstanceRun
from engine.service.core import SYSTEM_CHAIN, Core
from engine.service.stepping import Settled, Step, advance, next_wake, settle, step


def fire(run: InstanceRun, now: datetime) -> list[EventDraft]:
    return run.fire_timers(now=now)


@dataclass
class _HeldBack:
    """A unit whose SLA writes wait until the instance has won its guard."""

    unit: Unit
    writes: list[Callable[[Unit], None]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unit, name)

    def save_clocks(self, instance_id: str, clocks: Sequence[Any]) -> None:
        self.writes.append(lambda unit: unit.save_clocks(instance_id, clocks))

    def add_overdue_alerts(self, org_unit: str | None, overdue_alerts: Sequence[Any]) -> None:
        self.writes.append(lambda unit: unit.add_overdue_alerts(org_unit, overdue_alerts))

    def resolve_overdue_alerts(self, instance_id: str, clock_keys: Sequence[str], at: datetime) -> None:
        self.writes.append(lambda unit: unit.resolve_overdue_alerts(instance_id, clock_keys, at))


@dataclass
class _Fired:
    settled: Settled
    next_wake: datetime | None
    held_back: list[Callable[[Unit], None]]


@dataclass
class BatchOutcome:
    fired: int = 0  # instances changed and committed
    schedule: list[tuple[str, datetime | None]] = field(default_factory=list)  # for the wake-up index
    alone: list[str] = field(default_factory=list)  # to be woken one by one


def _fire_one(core: Core, unit: Unit, record: InstanceRecord, now: datetime) -> _Fired | None:
    """The instance's firing, settled but unwritten; None: it must be woken alone."""
    held = _HeldBack(unit)
    moved = advance(core, cast(Unit, held), record, fire, now, Step(record.id, fires_timers=True))
    if moved.starts or (core.commit_hooks and {t.id for t in moved.run.ready_tasks()} != moved.ready_before):
        return None
    return _Fired(settle(core, unit, moved, now), next_wake(moved.run, moved.clocks), held.writes)


def fire_batch(core: Core, instance_ids: Sequence[str], now: datetime) -> BatchOutcome:
    """Fire what is due on ``instance_ids`` in one transaction."""
    outcome = BatchOutcome()
    with core.store.unit() as unit:
        locked = {r.id: r for r in unit.lock_instances(instance_ids) if r.id != SYSTEM_CHAIN}
        # Missing, or held by another transaction (a task being completed):
        # woken alone, which waits for the row or reports it gone.
        outcome.alone = [i for i in instance_ids if i not in locked]
        fired: list[_Fired] = []
        for instance_id in (i for i in instance_ids if i in locked):
            one = _fire_one(core, unit, locked[instance_id], now)
            if one is None:
                outcome.alone.append(instance_id)
            else:
                fired.append(one)
        changed = [f.settled for f in fired if f.settled.updated is not None]
        won = unit.update_instances([(s.updated, s.record.revision) for s in changed if s.updated is not None])
        winners = [s for s in changed if s.record.id in won]
        outcome.alone += [s.record.id for s in changed if s.record.id not in won]
        # The rows are locked (or, on SQLite, the database is): an instance
        # with nothing to commit may still write its clocks, as a lone step does.
        for f in fired:
            if f.settled.updated is None or f.settled.record.id in won:
                for held in f.held_back:
                    held(unit)
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
    outcome.schedule = [
        (f.settled.record.id, f.next_wake) for f in fired if f.settled.updated is None or f.settled.record.id in won
    ]
    return outcome


def wake(core: Core, instance_id: str, now: datetime) -> bool:
    """Fire whatever is due on one instance. Safe to call twice, or from two
    workers at once: the second finds nothing due, or loses the revision
    race, and changes nothing."""
    try:
        view = step(core, Step(instance_id, fire, fires_timers=True, now=now))
    except ConflictError:
        return False
    except NotFoundError:
        if core.wakeups is not None:
            core.wakeups.schedule(instance_id, None)
        return False
    except TransactionTimeout as exc:
        if exc.code != TransactionTimeout.default_code:
            raise  # the server is stopping: the next sweep fires it
        return _park(core, instance_id, exc, now)
    return view.changed


def _park(core: Core, instance_id: str, exc: TransactionTimeout, now: datetime) -> bool:
    """A firing over the transaction budget would run over on every sweep and
    hold the database each time: the instance becomes an incident instead (a
    person fixes the model or data, then retries)."""
    message = f"定时器触发时运行超时，已回滚并暂停本案件：{exc.message}"

    def park(run: InstanceRun, _now: datetime) -> list[EventDraft]:
        return run.park(exc.code, message)

    try:
        return step(core, Step(instance_id, park, now=now)).changed
    except (ConflictError, NotFoundError):
        return False


def wake_many(core: Core, instance_ids: Sequence[str], now: datetime) -> int:
    """:func:`wake` for many instances, ``core.fire_batch`` of them per
    transaction; returns how many changed."""
    woken = 0
    for begin in range(0, len(instance_ids), core.fire_batch):
        chunk = instance_ids[begin : begin + core.fire_batch]
        try:
            outcome = fire_batch(core, chunk, now)
        except Exception:  # rolled back; one by one, a failure surfaces where it belongs
            woken += sum(1 for instance_id in chunk if wake(core, instance_id, now))
            continue
        if core.wakeups is not None and outcome.schedule:
            core.wakeups.schedule_many(outcome.schedule)
        woken += outcome.fired + sum(1 for instance_id in outcome.alone if wake(core, instance_id, now))
    return woken


def fire_due(core: Core, now: datetime, limit: int) -> int:
    """Refresh exactly the instances whose timers are due; returns how many changed."""
    if core.wakeups is not None:
        due = core.wakeups.claim_due(now, limit)
    else:
        with core.store.reader() as unit:
            due = unit.due_instances(now, limit)
    return wake_many(core, due, now)
