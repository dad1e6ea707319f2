"""Deterministic re-execution: prove a case's record by running it again.

A case is re-run from its start on its own deployed version, in a throw-away
in-memory store (:mod:`engine.replay_store`), through the same step pipeline
(:mod:`engine.service.stepping`) the live system uses, feeding the recorded
inputs in their recorded order:

* the start data, org unit, region and version (``instance_started``);
* every form submission with its actor (``task_completed``), every 回退,
  retry, termination and 延期 with theirs;
* the clock: a :class:`~engine.clock.FixedClock` set to each event's recorded
  time before the step that produced it (timers fire when the record says
  the scheduler fired them);
* the calendar schedules in force at that time (each with the moment it was
  loaded) and the SLA policy the case recorded (policies are content
  addressed: ``id@version#digest``);
* connector responses and errors, taken from the recorded
  ``connector_called``/``connector_failed`` events instead of calling out;
* events the engine does not compute (partner results and leases, handoffs
  opened, reads of personal data, claims, notices numbered…) are appended as
  recorded: they are inputs, proved by the hash chain and the signed digest,
  not by re-execution.

Every event the re-run produces is compared with the recorded event at the
same position: kind, actor, element, task, payload and time. Hashes are not
compared: SpiffWorkflow names tasks with random UUIDs, so the re-run's task
ids differ; they are paired with the recorded ones as they first appear (a
bijection, checked at every later use) and the comparison is made on the
recorded ids. The chain's hashes are checked separately by
:func:`engine.audit.verify_chain` (``jiuzhu verify``).

The answer is 复算一致 or the first event that differs, with the field and
both values, under the stable code ``REPLAY_MISMATCH``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.audit import AuditEvent
from engine.clock import FixedClock
from engine.errors import InvalidRequestError, JiuzhuError
from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit, VersionRecord
from engine.replay_compare import MISSING, Difference, Ids, ReplayResult, compare
from engine.replay_store import MemoryStore, MemoryUnit, ScheduleLoad
from engine.runtime.connectors import ConnectorError, Connectors, Parameter
from engine.runtime.run import InstanceRun
from engine.runtime.send_back import send_back
from engine.sandbox.scripts import Sandbox
from engine.service import stepping
from engine.service.core import Core, SpecCache, revision_conflict
from engine.service.firing import fire
from engine.service.stepping import Start, Step
from engine.sla.desk import SlaDesk
from engine.sla.policy import PolicyBook, load_policy
from engine.timebounds import TimeLimits
from engine.workcal.calendar import WorkCalendar
from engine.workcal.schedule import load_schedule

TOO_LONG = "REPLAY_TOO_LONG"
DEFAULT_MAX_EVENTS = 20_000  # a replay holds one worker; past this the caller must opt in

# Events the engine computes: the re-run must produce them itself.
COMPUTED = frozenset(
    {
        "task_ready", "task_cancelled", "gateway_decided", "connector_called", "connector_failed", "script_run",
        "element_completed", "instance_failed", "message_sent", "event_uncaught", "incident_raised",
        "incident_resolved", "instance_completed", "timer_fired", "timer_armed", "sla_clock_started",
        "sla_clock_closed", "sla_warning", "sla_overdue", "sla_paused", "sla_resumed",
    }
)  # fmt: skip
# Events that record a person's (or the system's) input: each begins a step that is re-run.
INPUTS = frozenset(
    {
        "instance_started", "task_completed", "task_submission_failed", "task_sent_back", "incident_retried",
        "instance_terminated", "sla_extended", "deadline_recomputed",
    }
)  # fmt: skip


class ReplayTooLong(InvalidRequestError):
    default_code = TOO_LONG


@dataclass(frozen=True)
class CaseRecord:
    """What a replay reads: the instance row, its events, its version, and the
    schedules and policies the store holds."""

    instance: InstanceRecord
    events: Sequence[AuditEvent]
    version: VersionRecord
    schedules: Sequence[ScheduleLoad]
    policies: Sequence[tuple[str, str]]  # (source, body)


class _Parsed:
    """Calendars and policy books by their source texts, shared by every replay of a run."""

    def __init__(self) -> None:
        self.calendars: dict[tuple[tuple[str, str], ...], WorkCalendar] = {}
        self.books: dict[tuple[tuple[str, str], ...], PolicyBook] = {}

    def calendar(self, rows: list[tuple[str, str]]) -> WorkCalendar:
        key = tuple(rows)
        if key not in self.calendars:
            self.calendars[key] = WorkCalendar([load_schedule(body, source=source) for source, body in rows])
        return self.calendars[key]

    def book(self, rows: list[tuple[str, str]]) -> PolicyBook:
        key = tuple(rows)
        if key not in self.books:
            self.books[key] = PolicyBook(load_policy(body, source=source) for source, body in rows)
        return self.books[key]


class _ReplayDesk(SlaDesk):
    """The SLA desk over the calendar in force at the replay clock (no time-based cache)."""

    def __init__(self, parsed: _Parsed) -> None:
        super().__init__()
        self.parsed = parsed

    def calendar(self, unit: Unit) -> WorkCalendar:
        return self.parsed.calendar(unit.schedules())

    def book(self, unit: Unit) -> PolicyBook:
        return self.parsed.book(unit.policies())


class _Recorded:
    """A connector that answers what the record says it answered."""

    parameters: Sequence[Parameter] = ()

    def __init__(self, name: str, registry: _RecordedConnectors) -> None:
        self.name = self.title = name
        self.registry = registry

    def call(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        queue = self.registry.answers.get((self.registry.element, self.name))
        if not queue:
            raise ConnectorError(f"复算时调用了记录中没有的连接器 {self.name}", code="REPLAY_NO_RECORDED_RESPONSE")
        answer = queue.pop(0)
        error = answer.get("error")
        if isinstance(error, Mapping):
            raise ConnectorError(str(error.get("message")), code=str(error.get("code")))
        response = answer.get("response")
        return response if isinstance(response, Mapping) else {}


class _RecordedConnectors(Connectors):
    """Every operator the record names, answered from the record, per element in order."""

    def __init__(self, events: Sequence[AuditEvent]) -> None:
        super().__init__()
        self.element: str | None = None
        self.answers: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
        for event in events:
            if event.type in ("connector_called", "connector_failed"):
                payload = event.payload
                operator = str(payload.get("operator"))
                self.answers.setdefault((event.element_id, operator), []).append(payload)
                self.connectors.setdefault(operator, _Recorded(operator, self))

    def call(self, task_id: str, element_id: str, operator: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.element = element_id
        if operator not in self.connectors:
            self.connectors[operator] = _Recorded(operator, self)
        return super().call(task_id, element_id, operator, params)


@dataclass
class _Run:
    case: CaseRecord
    core: Core
    clock: FixedClock
    unit: MemoryUnit
    ids: Ids = field(default_factory=Ids)
    fed: int = 0

    def chain(self) -> list[AuditEvent]:
        return self.unit.chains.get(self.case.instance.id, [])

    def step_for(self, event: AuditEvent, following: Sequence[AuditEvent]) -> Callable[[], Any]:
        """The operation that produced ``event`` (at the head of a step), with its recorded inputs."""
        payload, actor, iid = event.payload, event.actor, self.case.instance.id
        core, kind = self.core, event.type
        if kind == "instance_started":
            return lambda: stepping.start(core, self.start_request(event))
        if kind in ("task_completed", "task_submission_failed"):
            task_id, data = self.ids.replayed(event.task_id), payload.get("form_data")

            def complete(run: InstanceRun, now: datetime) -> list[EventDraft]:
                return run.complete_task(str(task_id), data, actor=actor, now=now)

            return lambda: stepping.step(core, Step(iid, complete))
        if kind == "task_sent_back":
            task_id, reason = self.ids.replayed(event.task_id), str(payload.get("reason"))

            def back(run: InstanceRun, now: datetime) -> list[EventDraft]:
                return send_back(run, str(task_id), reason=reason, actor=actor, now=now)

            return lambda: stepping.step(core, Step(iid, back))
        if kind == "incident_retried":
            patch = payload.get("data_patch") or {}
            return lambda: stepping.step(core, Step(iid, lambda run, now: run.retry(patch, actor=actor, now=now)))
        if kind == "instance_terminated":
            reason = str(payload.get("reason"))
            return lambda: stepping.step(core, Step(iid, lambda run, _now: run.terminate(reason, actor=actor)))
        if kind == "sla_extended":

            def extend(unit: Unit, record: InstanceRecord) -> list[EventDraft]:
                drafts = core.sla.extend(
                    unit,
                    record,
                    reason=str(payload.get("reason")),
                    approver=str(payload.get("approver")),
                    approver_role=str(payload.get("approver_role")),
                )
                for draft in drafts:
                    draft.actor = actor
                return drafts

            return lambda: stepping.step(core, Step(iid, extra=extend))
        if kind == "deadline_recomputed":
            return lambda: stepping.step(core, Step(iid, recompute=True))
        # A step nobody asked for: the scheduler woke the case (timers, SLA crossings).
        same_moment = [e for e in following if e.occurred_at == event.occurred_at and e.type not in INPUTS]
        fires = any(e.type == "timer_fired" for e in [event, *same_moment])
        return lambda: stepping.step(core, Step(iid, fire if fires else stepping.no_op, fires_timers=fires))

    def start_request(self, event: AuditEvent) -> Start:
        payload, record = event.payload, self.case.instance
        data = payload.get("data") or {}
        by_engine = bool((event.actor or "").startswith("流程 ") and "parent_instance_id" in data)
        return Start(
            record.process_id,
            data,
            event.actor,
            version=record.version,
            business_key=record.business_key,
            org_unit=payload.get("org_unit", record.org_unit),
            region=payload.get("region", record.region),
            instance_id=record.id,
            by_engine=by_engine,
        )

    def feed(self, event: AuditEvent) -> None:
        """Append a recorded input the engine does not compute, as it was recorded."""
        head = self.unit.instances[self.case.instance.id]
        draft = EventDraft(event.type, event.payload, event.task_id, event.element_id, event.actor)
        stepping.chain(self.unit, head, draft, event.occurred_at, revision_conflict)
        self.fed += 1


def _refused(event: AuditEvent, exc: JiuzhuError) -> Difference:
    return Difference(event.seq, event.type, "(step)", "已执行", f"复算时被拒绝：[{exc.code}] {exc.message}")


class Replayer:
    """Re-runs cases; the spec cache and parsed calendars are shared between them."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        time_limits: TimeLimits | None = None,
        max_events: int = DEFAULT_MAX_EVENTS,
        cache_size: int = 64,
    ) -> None:
        self.sandbox = sandbox
        self.time_limits = time_limits or TimeLimits()
        self.max_events = max_events
        self.specs = SpecCache(cache_size)
        self.parsed = _Parsed()

    def replay(self, case: CaseRecord) -> ReplayResult:
        recorded = list(case.events)
        if len(recorded) > self.max_events:
            raise ReplayTooLong(
                f"实例 {case.instance.id} 有 {len(recorded)} 条事件，超过复算上限 {self.max_events} 条"
                "（命令行可用 --max-events 放宽）"
            )
        run = self._prepare(case, recorded)
        iid, position = case.instance.id, 0
        while position < len(recorded):
            event = recorded[position]
            run.clock.set(event.occurred_at)
            if event.type not in INPUTS and event.type not in COMPUTED:
                run.feed(event)
                position += 1
                continue
            if position == 0 and event.type != "instance_started":
                first = Difference(event.seq, event.type, "type", event.type, "instance_started")
                return ReplayResult(iid, 0, 0, first)
            try:
                run.step_for(event, recorded[position + 1 :])()
            except JiuzhuError as exc:
                return ReplayResult(iid, position, run.fed, _refused(event, exc))
            produced = run.chain()[position:]
            if not produced:
                missing = Difference(event.seq, event.type, "(event)", event.type, MISSING)
                return ReplayResult(iid, position, run.fed, missing)
            for offset, ours in enumerate(produced):
                index = position + offset
                if index >= len(recorded):
                    extra = Difference(index + 1, "", "(event)", MISSING, ours.type)
                    return ReplayResult(iid, index, run.fed, extra)
                difference = compare(recorded[index], ours, run.ids)
                if difference is not None:
                    return ReplayResult(iid, index, run.fed, difference)
            position += len(produced)
        return ReplayResult(iid, len(recorded), run.fed)

    def _prepare(self, case: CaseRecord, recorded: Sequence[AuditEvent]) -> _Run:
        start = recorded[0].occurred_at if recorded else case.instance.created_at
        clock = FixedClock(start)
        unit = MemoryUnit(clock)
        unit.versions[(case.version.process_id, case.version.version)] = case.version
        unit.schedule_loads = list(case.schedules)
        unit.policy_rows = list(case.policies)
        core = Core(
            store=MemoryStore(unit),
            clock=clock,
            sandbox=self.sandbox,
            connectors=_RecordedConnectors(recorded),
            specs=self.specs,
            sla=_ReplayDesk(self.parsed),
            time_limits=self.time_limits,
        )
        return _Run(case, core, clock, unit)


def recorded_connectors(events: Sequence[AuditEvent]) -> Connectors:
    """A registry answering every connector call from ``events``' recorded responses."""
    return _RecordedConnectors(events)
