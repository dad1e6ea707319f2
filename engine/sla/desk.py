"""The policies and calendar in force, and SLA tracking inside engine steps.

Both are stored in the database (so every worker process agrees) and cached
here. A process re-reads them at most every ``refresh_seconds`` unless it made
the change itself, so a schedule loaded on one server reaches the others
within seconds.
"""

from __future__ import annotations

import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from threading import Lock
from typing import Any

from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit
from engine.runtime.run import InstanceRun
from engine.runtime.task_facts import partner_of
from engine.sla import clocks as sla
from engine.sla.functions import SlaContext
from engine.sla.policy import PolicyBook, SlaPolicy, load_policy
from engine.sla.tracker import ActiveStage, track
from engine.workcal.calendar import WorkCalendar
from engine.workcal.schedule import load_schedule

RUNNING = "running"


def policy_key(policy: SlaPolicy) -> str:
    return f"{policy.id}@{policy.version}#{policy.digest}"


class SlaDesk:
    def __init__(self, *, refresh_seconds: float = 5.0) -> None:
        self._lock = Lock()
        self._refresh = refresh_seconds
        self._calendar: WorkCalendar | None = None
        self._book: PolicyBook | None = None
        self._read_at = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._calendar, self._book = None, None

    def _load(self, unit: Unit) -> tuple[WorkCalendar, PolicyBook]:
        # Monotonic process time only throttles cache refreshes; it never
        # decides anything about a case.
        stale = _time.monotonic() - self._read_at > self._refresh
        with self._lock:
            if self._calendar is not None and self._book is not None and not stale:
                return self._calendar, self._book
        schedules = [load_schedule(body, source=source) for source, body in unit.schedules()]
        calendar = WorkCalendar(schedules)
        book = PolicyBook(load_policy(body, source=source) for source, body in unit.policies())
        with self._lock:
            self._calendar, self._book, self._read_at = calendar, book, _time.monotonic()
        return calendar, book

    def calendar(self, unit: Unit) -> WorkCalendar:
        return self._load(unit)[0]

    def book(self, unit: Unit) -> PolicyBook:
        return self._load(unit)[1]

    def policy_for(self, unit: Unit, record: InstanceRecord) -> SlaPolicy | None:
        if record.policy is None:
            return None
        for policy in self.book(unit).policies:
            if policy_key(policy) == record.policy:
                return policy
        return None

    def context(self, unit: Unit, record: InstanceRecord, now: datetime) -> SlaContext:
        return SlaContext(self.calendar(unit), self.policy_for(unit, record), record.region, now)

    def step(
        self, unit: Unit, record: InstanceRecord, run: InstanceRun, now: datetime, *, recompute: bool = False
    ) -> tuple[list[EventDraft], list[sla.SlaClock]]:
        """Bring the instance's clocks up to date; returns events and clocks."""
        policy = self.policy_for(unit, record)
        if policy is None:
            return [], []
        calendar = self.calendar(unit)
        clocks = unit.clocks(record.id)
        events: list[EventDraft] = []
        if recompute:
            clocks, events = _recompute(clocks, calendar)
        started = {c.key for c in clocks}
        stages = [
            _stage(run, policy, *s) if f"task:{s[0]}" not in started else ActiveStage(*s) for s in run.active_stages()
        ]
        outcome = track(
            clocks,
            instance_id=record.id,
            running=run.status in (RUNNING, "incident"),
            stages=stages,
            policy=policy,
            region=record.region,
            calendar=calendar,
            now=now,
            accepted=_accepted(run, policy),
        )
        unit.save_clocks(record.id, outcome.clocks)
        if outcome.overdue_alerts:
            unit.add_overdue_alerts(record.org_unit, outcome.overdue_alerts)
        if outcome.resolved:
            unit.resolve_overdue_alerts(record.id, outcome.resolved, now)
        return events + outcome.events, outcome.clocks

    def extend(
        self, unit: Unit, record: InstanceRecord, *, reason: str, approver: str, approver_role: str
    ) -> list[EventDraft]:
        from engine.errors import InvalidRequestError

        policy = self.policy_for(unit, record)
        if policy is None or policy.extension is None:
            raise InvalidRequestError("本实例适用的时限政策不允许延期", code="SLA_NO_EXTENSION")
        if approver_role != policy.extension.approver_role:
            raise InvalidRequestError(
                f"延期须由「{policy.extension.approver_role}」批准", code="SLA_EXTENSION_APPROVER"
            )
        clocks = {c.key: c for c in unit.clocks(record.id)}
        overall = clocks.get("overall")
        if overall is None or not overall.open:
            raise InvalidRequestError("实例没有正在计时的总时限", code="SLA_NOT_RUNNING")
        if overall.extended:
            raise InvalidRequestError("总时限已经延期过，不能再次延期", code="SLA_ALREADY_EXTENDED")
        extended = sla.extend(overall, policy.extension.limit, self.calendar(unit))
        unit.save_clocks(record.id, [extended])
        payload = {
            "clock": "overall",
            "reason": reason,
            "approver": approver,
            "approver_role": approver_role,
            "old_due_on": overall.due_on.isoformat(),
            **extended.to_payload(),
        }
        return [EventDraft("sla_extended", payload)]


def _accepted(run: InstanceRun, policy: SlaPolicy) -> bool:
    """Has the case passed the element the overall limit counts from?"""
    starts = policy.overall.starts_at
    if not starts:
        return True
    if any(run.passed(element) for element in starts):
        # Moved on, but not into a pause (补正): the law counts from 受理,
        # which a request for 补正 is not.
        return not any(policy.pauses_overall(stage) for _, _, stage in run.active_stages())
    return False


def _stage(run: InstanceRun, policy: SlaPolicy, task_id: str, element_id: str, stage: str) -> ActiveStage:
    """A stage about to get its clock, with what its task's data says: the
    deadline a ``due_from`` limit names, and the 联办 department."""
    data = run.task_data(task_id)
    limit = policy.stages.get(stage)
    due_on = _date_at(data, limit.due_from) if limit is not None and limit.due_from else None
    return ActiveStage(task_id, element_id, stage, due_on, partner_of(data))


def _date_at(data: Mapping[str, Any], path: Sequence[str]) -> date | None:
    """The ISO date at ``path``; None (count the policy's limit) if there is none."""
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _recompute(clocks: Sequence[sla.SlaClock], calendar: WorkCalendar) -> tuple[list[sla.SlaClock], list[EventDraft]]:
    out, events = [], []
    for clock in clocks:
        if not clock.open or not clock.provisional:
            out.append(clock)
            continue
        fresh = sla.schedule(clock, calendar)
        if fresh.due_on != clock.due_on:
            # The warning moves with the deadline; a warning already given for
            # the old date is not repeated, but a new one may now be due.
            fresh = replace(fresh, warned=clock.warned and fresh.warn_at == clock.warn_at)
        events.append(
            EventDraft(
                "deadline_recomputed",
                {
                    "clock": clock.key,
                    "stage": clock.stage,
                    "old_due_on": clock.due_on.isoformat(),
                    "new_due_on": fresh.due_on.isoformat(),
                    "provisional": fresh.provisional,
                    "old_calendar_version": clock.calendar_version,
                    "calendar_version": fresh.calendar_version,
                },
                clock.task_id,
                clock.element_id,
            )
        )
        out.append(fresh)
    return out, events
