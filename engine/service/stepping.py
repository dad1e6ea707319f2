"""The one step pipeline: every change to an instance goes through it.

A step is one transaction: read the instance's row, run one operation on the
workflow in memory (:func:`advance`), turn the result into what must be
written (:func:`settle`) and write it (:func:`write`), guarded by the
instance's revision (optimistic concurrency: of two writers that read the
same revision, exactly one commits). Completing a task, retrying, sending
back, terminating, firing timers one instance at a time, recomputing
deadlines, starting an instance and the instances its ``start_process``
tasks ask for all run here; :mod:`engine.service.firing` runs the same
:func:`advance` and :func:`settle` for a batch of due instances and writes
them together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.audit import GENESIS, AuditEvent, seal
from engine.errors import ConflictError, InvalidRequestError, NotFoundError
from engine.events import EventDraft
from engine.ports import InstanceRecord, TaskRow, TimerRow, Unit
from engine.runtime.connectors import StartRequest, collecting_starts
from engine.runtime.run import InstanceRun
from engine.runtime.task_facts import TaskFacts, facts_for
from engine.runtime.tasks import ReadyTask, WaitingTimer
from engine.service import starting
from engine.service.core import SYSTEM_CHAIN, Core, InstanceView, revision_conflict
from engine.sla.clocks import SlaClock
from engine.sla.desk import policy_key
from engine.sla.functions import SlaContext, sla_context

MAX_START_DEPTH = 3  # a process that starts one that starts one…: a modelling loop, refused

Op = Callable[[InstanceRun, datetime], list[EventDraft]]
Check = Callable[[Unit, InstanceRecord], None]
Extra = Callable[[Unit, InstanceRecord], list[EventDraft]]


def no_op(_run: InstanceRun, _now: datetime) -> list[EventDraft]:
    return []


@dataclass(frozen=True)
class Step:
    """One operation on one instance.

    ``check`` sees the instance row inside the transaction before anything
    runs (authorization: raise to refuse); ``extra`` writes more in the same
    transaction after the operation (and may refuse it by raising).
    """

    instance_id: str
    op: Op = no_op
    expected_revision: int | None = None
    check: Check | None = None
    extra: Extra | None = None
    fires_timers: bool = False  # what the timers set off happened when they were due
    recompute: bool = False  # the calendar changed: reschedule the clocks
    now: datetime | None = None


@dataclass(frozen=True)
class Start:
    process_id: str
    data: Mapping[str, Any]
    actor: str | None
    version: int | None = None
    business_key: str | None = None
    org_unit: str | None = None
    region: str | None = None
    instance_id: str | None = None  # chosen by a parent's start_process task
    # Started by the engine for a parent's start_process: the parent's model
    # decides the child's data, so the start form's gate does not apply.
    by_engine: bool = False
    # A client's start (API, web): data is refused unless a start form declares
    # it, even for a process without one. In-process callers (demo seeding,
    # tools) may hand data to a process that has no start form.
    strict: bool = False


@dataclass
class Advanced:
    """An instance after its operation ran in memory, before anything is written."""

    record: InstanceRecord
    run: InstanceRun
    drafts: list[EventDraft]
    clocks: list[SlaClock]
    starts: list[StartRequest]
    ready_before: set[str] = field(default_factory=set)
    timers_before: list[WaitingTimer] = field(default_factory=list)


@dataclass
class Settled:
    """What one step writes. ``updated`` None: nothing changed, nothing to write."""

    record: InstanceRecord
    view: InstanceView
    updated: InstanceRecord | None = None
    events: list[AuditEvent] = field(default_factory=list)
    timers: list[TimerRow] | None = None  # None: the timer rows stay as they are
    ready_added: list[TaskRow] = field(default_factory=list)
    ready_removed: list[str] = field(default_factory=list)
    facts_kept: dict[str, TaskFacts] = field(default_factory=dict)


def event_time(timers: Sequence[WaitingTimer], now: datetime) -> datetime:
    """What a timer sets off happened when the timer was due, not when a busy
    scheduler got round to it: stages it starts count from then."""
    return min((t.due_at for t in timers if t.due_at <= now), default=now)


def advance(core: Core, unit: Unit, record: InstanceRecord, op: Op, now: datetime, request: Step) -> Advanced:
    run = core.load(unit, record)
    ready_before = {t.id for t in run.ready_tasks()}
    timers_before = run.waiting_timers()
    moment = event_time(timers_before, now) if request.fires_timers else now
    with sla_context(core.sla.context(unit, record, moment)), collecting_starts(core.deployed(unit)) as starts:
        drafts = op(run, now)
    sla_events, clocks = core.sla.step(unit, record, run, moment, recompute=request.recompute)
    return Advanced(record, run, drafts + sla_events, clocks, list(starts), ready_before, timers_before)


def settle(core: Core, unit: Unit, moved: Advanced, now: datetime) -> Settled:
    """The rows and events a step writes; the commit hooks run here, inside
    the transaction, for the tasks that became ready or left."""
    record, run = moved.record, moved.run
    state = run.dump()
    drafts = moved.drafts
    if not drafts and state == record.state and run.status == record.status:
        return Settled(record, InstanceView(record, run.ready_tasks(), run.data(), changed=False))
    ready = run.ready_tasks()
    before, after = moved.ready_before, {t.id for t in ready}
    if after != before:
        arrived, left = [t for t in ready if t.id not in before], sorted(before - after)
        for hook in core.commit_hooks:
            drafts = drafts + hook(unit, record, run, arrived, left, now)
    events = seal(record.id, drafts, after_seq=record.event_count, prev_hash=record.head_hash or GENESIS, at=now)
    updated = replace(
        record,
        status=run.status,
        state=state,
        revision=record.revision + 1,
        updated_at=now,
        incident=run.incident.to_dict() if run.incident else None,
        event_count=record.event_count + len(events),
        head_hash=events[-1].hash if events else record.head_hash,
    )
    timers = run.waiting_timers()
    data = run.data()
    added, removed, kept = ready_rows(record, run, ready, data, before, moved.clocks, now)
    return Settled(
        record,
        InstanceView(updated, ready, data),
        updated,
        events,
        [TimerRow(record.id, t.task_id, t.element_id, t.due_at) for t in timers]
        if timers != moved.timers_before
        else None,
        added,
        removed,
        kept,
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
    """The ready-task index after a step: rows to add (with their inbox facts),
    ids to remove, and fresh facts for the tasks still waiting (a pause or an
    extension moves their deadline)."""
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


def write(unit: Unit, settled: Settled) -> None:
    if settled.updated is None:
        return
    if not unit.update_instance(settled.updated, expected_revision=settled.record.revision):
        raise revision_conflict()
    unit.append_events(settled.events)
    if settled.timers is not None:
        unit.replace_timers(settled.record.id, settled.timers)
    if settled.ready_added or settled.ready_removed:
        unit.update_ready_tasks(settled.record.id, added=settled.ready_added, removed=settled.ready_removed)
    if settled.facts_kept:
        unit.refresh_task_facts(settled.facts_kept)


def next_wake(run: InstanceRun, clocks: Sequence[SlaClock]) -> datetime | None:
    moments = [t.due_at for t in run.waiting_timers()]
    moments += [m for m in (c.next_check() for c in clocks) if m is not None]
    return min(moments, default=None)


Committed = tuple[InstanceView, InstanceRun, list[SlaClock]]


def after_commit(core: Core, committed: Sequence[Committed]) -> None:
    for view, run, clocks in committed:
        for hook in core.after_commit_hooks:
            hook(view)
        if core.wakeups is not None:
            core.wakeups.schedule(view.record.id, next_wake(run, clocks))


def step(core: Core, request: Step) -> InstanceView:
    moment = request.now or core.clock.now()
    with core.store.unit() as unit:
        record = core.instance(unit, request.instance_id)
        if request.check is not None:
            request.check(unit, record)
        if request.expected_revision is not None and record.revision != request.expected_revision:
            raise revision_conflict()
        moved = advance(core, unit, record, request.op, moment, request)
        starting.follow_applicant(unit, moved.run.definition, record.id, moved.run, moved.drafts)
        if request.extra is not None:
            moved.drafts += request.extra(unit, record)
            moved.clocks = unit.clocks(record.id)
        settled = settle(core, unit, moved, moment)
        write(unit, settled)
        committed = [(settled.view, moved.run, moved.clocks)]
        committed += start_requested(core, unit, settled.view.record, moved.starts, moment, 0)
    after_commit(core, committed)
    return settled.view


def start(core: Core, request: Start) -> InstanceView:
    now = core.clock.now()
    with core.store.unit() as unit:
        committed = start_in(core, unit, request, now, 0)
    after_commit(core, committed)
    return committed[0][0]


def start_in(core: Core, unit: Unit, request: Start, now: datetime, depth: int) -> list[Committed]:
    """Start an instance inside ``unit``, then whatever its first step asked to start."""
    pid, version = request.process_id, request.version
    record = unit.latest_version(pid) if version is None else unit.get_version(pid, version)
    if record is None:
        raise NotFoundError(f"流程 {pid} 未部署" + (f"版本 {version}" if version else ""), code="PROCESS_NOT_FOUND")
    definition, restored = core.specs.get(record)
    if not request.by_engine and isinstance(request.data, Mapping):
        if definition.start_form is not None or request.strict:
            starting.refuse_undeclared(definition, request.data)
        starting.refuse_duplicate(unit, definition, request.data)
    policy = core.sla.book(unit).select(pid, request.region)
    calendar = core.sla.calendar(unit)
    instance = InstanceRecord(
        id=request.instance_id or str(uuid.uuid4()),
        process_id=pid,
        version=record.version,
        status="running",
        state="",
        revision=0,
        created_at=now,
        updated_at=now,
        started_by=request.actor,
        head_hash=GENESIS,
        business_key=request.business_key,
        org_unit=request.org_unit,
        region=request.region,
        policy=policy_key(policy) if policy else None,
    )
    unit.add_instance(instance)
    if isinstance(request.data, Mapping):
        starting.remember_applicant(unit, definition, instance.id, request.data, by_engine=request.by_engine)
    run = InstanceRun.new(definition, restored, core.script_engine, core.time_limits)
    with (
        sla_context(SlaContext(calendar, policy, request.region, now)),
        collecting_starts(core.deployed(unit)) as starts,
    ):
        drafts = run.start(request.data, actor=request.actor, now=now, validate=not request.by_engine)
    drafts[0].payload.update(
        version=record.version,
        org_unit=request.org_unit,
        region=request.region,
        policy=instance.policy,
        policy_source=policy.source if policy else None,
        calendar_version=calendar.version(request.region),
    )
    sla_events, clocks = core.sla.step(unit, instance, run, now)
    moved = Advanced(instance, run, drafts + sla_events, clocks, list(starts))
    settled = settle(core, unit, moved, now)
    write(unit, settled)
    view = settled.view
    return [(view, run, clocks), *start_requested(core, unit, view.record, moved.starts, now, depth)]


def start_requested(
    core: Core, unit: Unit, parent: InstanceRecord, requests: Sequence[StartRequest], now: datetime, depth: int
) -> list[Committed]:
    """Instances a step's ``start_process`` service tasks asked for, in the parent's org unit and region."""
    if requests and depth >= MAX_START_DEPTH:
        raise InvalidRequestError(f"关联流程嵌套启动超过 {MAX_START_DEPTH} 层", code="START_PROCESS_DEPTH")
    started: list[Committed] = []
    for request in requests:
        child = Start(
            request.process_id,
            {**request.data, "parent_instance_id": parent.id},
            actor=f"流程 {parent.process_id}",
            business_key=request.business_key,
            org_unit=parent.org_unit,
            region=parent.region,
            instance_id=request.instance_id,
            by_engine=True,
        )
        started += start_in(core, unit, child, now, depth + 1)
    return started


# -- events that change no workflow state -------------------------------------------


def chain(
    unit: Unit, head: InstanceRecord, draft: EventDraft, now: datetime, conflict: Callable[[], ConflictError]
) -> None:
    """Append one event to a chain whose workflow state does not change."""
    events = seal(head.id, [draft], after_seq=head.event_count, prev_hash=head.head_hash or GENESIS, at=now)
    count, last = head.event_count + 1, events[-1].hash
    updated = replace(head, revision=head.revision + 1, updated_at=now, event_count=count, head_hash=last)
    if not unit.update_instance(updated, expected_revision=head.revision):
        raise conflict()
    unit.append_events(events)


def annotate(core: Core, unit: Unit, instance_id: str, draft: EventDraft) -> None:
    chain(unit, core.instance(unit, instance_id), draft, core.clock.now(), revision_conflict)


def append_system(core: Core, unit: Unit, draft: EventDraft) -> None:
    now = core.clock.now()
    head = unit.get_instance(SYSTEM_CHAIN)
    if head is None:
        head = InstanceRecord(SYSTEM_CHAIN, SYSTEM_CHAIN, 0, "system", "", 0, now, now, head_hash=GENESIS)
        unit.add_instance(head)
    chain(unit, head, draft, now, lambda: ConflictError("系统审计链并发写入冲突，请重试", code="REVISION_MISMATCH"))
