"""Keeping an instance's SLA clocks in step with its process state.

Called inside every committed step: starts a clock for each newly active
stage, closes clocks whose stage ended, pauses and resumes the overall clock,
and turns crossed warning and due moments into audit events and 督办
(supervision) records. Pure: clocks, stages, policy, calendar and time in;
new clocks, event drafts and supervisions out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from engine.events import EventDraft
from engine.sla import clocks as sla
from engine.sla.policy import SlaPolicy
from engine.workcal.calendar import WorkCalendar


@dataclass(frozen=True)
class ActiveStage:
    task_id: str
    element_id: str
    stage: str
    due_on: date | None = None  # from the task's data, for a ``due_from`` limit
    partner: str | None = None  # the 联办 department the task is addressed to


@dataclass(frozen=True)
class OverdueAlert:
    """督办: an overdue limit, raised to one of the roles the policy names.
    A 联办 task's 督办 carries its department, so that department's
    supervisor (and no other) sees it."""

    instance_id: str
    clock_key: str
    stage: str
    name: str
    role: str | None
    due_on: str
    raised_at: datetime
    partner: str | None = None


@dataclass
class Outcome:
    clocks: list[sla.SlaClock]
    events: list[EventDraft] = field(default_factory=list)
    overdue_alerts: list[OverdueAlert] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)  # keys of overdue clocks that closed


def track(
    clocks: Sequence[sla.SlaClock],
    *,
    instance_id: str,
    running: bool,
    stages: Sequence[ActiveStage],
    policy: SlaPolicy,
    region: str | None,
    calendar: WorkCalendar,
    now: datetime,
    accepted: bool = True,
) -> Outcome:
    """``accepted``: has the case reached the point its overall limit counts
    from (the policy's ``starts_at``, e.g. 受理)? Until then there is no
    overall clock, only stage clocks."""
    by_key = {c.key: c for c in clocks}
    out = Outcome([])
    active = {f"task:{s.task_id}": s for s in stages}

    if running and accepted and "overall" not in by_key:
        overall = sla.start_clock(
            instance_id=instance_id, key="overall", limit=policy.overall, policy=policy,
            region=region, now=now, calendar=calendar,
        )  # fmt: skip
        by_key["overall"] = overall
        out.events.append(EventDraft("sla_clock_started", {"clock": "overall", **overall.to_payload()}))

    for key, stage in active.items():
        if key not in by_key:
            clock = sla.start_clock(
                instance_id=instance_id, key=key, limit=policy.stage(stage.stage), policy=policy, region=region,
                now=now, calendar=calendar, task_id=stage.task_id, element_id=stage.element_id,
                fixed_due_on=stage.due_on, partner=stage.partner,
            )  # fmt: skip
            by_key[key] = clock
            out.events.append(
                EventDraft("sla_clock_started", {"clock": key, **clock.to_payload()}, stage.task_id, stage.element_id)
            )

    for key, clock in list(by_key.items()):
        ended = key != "overall" and key not in active
        if clock.open and (ended or not running):
            closed = replace(clock, closed_at=now)
            by_key[key] = closed
            on_time = now <= closed.due_at and not clock.overdue  # once 督办 is raised it stays late
            if clock.overdue:
                out.resolved.append(key)
            out.events.append(
                EventDraft(
                    "sla_clock_closed",
                    {"clock": key, "stage": clock.stage, "on_time": on_time, "due_on": clock.due_on.isoformat()},
                    clock.task_id,
                    clock.element_id,
                )
            )

    current = by_key.get("overall")
    if current is not None and current.open:
        pausing = [s.stage for s in stages if policy.pauses_overall(s.stage)]
        if pausing and current.paused_since is None:
            by_key["overall"] = sla.pause(current, now)
            out.events.append(EventDraft("sla_paused", {"clock": "overall", "because": pausing}))
        elif not pausing and current.paused_since is not None:
            resumed = sla.resume(current, now, calendar)
            by_key["overall"] = resumed
            out.events.append(EventDraft("sla_resumed", {"clock": "overall", **resumed.to_payload()}))

    for key, clock in list(by_key.items()):
        by_key[key] = _cross(clock, now, out)
    out.clocks = list(by_key.values())
    return out


def _cross(clock: sla.SlaClock, now: datetime, out: Outcome) -> sla.SlaClock:
    if not clock.open or clock.paused_since is not None:
        return clock
    if not clock.warned and clock.warn_at is not None and now >= clock.warn_at and now < clock.due_at:
        clock = replace(clock, warned=True)
        out.events.append(
            EventDraft(
                "sla_warning",
                {"clock": clock.key, **clock.to_payload(), "warn_before": clock.warn_before},
                clock.task_id,
                clock.element_id,
            )
        )
    if not clock.overdue and now >= clock.due_at:
        clock = replace(clock, overdue=True, warned=True)
        out.events.append(
            EventDraft(
                "sla_overdue",
                {"clock": clock.key, **clock.to_payload(), "escalate_to": list(clock.escalate_to)},
                clock.task_id,
                clock.element_id,
            )
        )
        due_on = clock.due_on.isoformat()
        out.overdue_alerts += [
            OverdueAlert(clock.instance_id, clock.key, clock.stage, clock.name, role, due_on, now, clock.partner)
            for role in clock.escalate_to or (None,)
        ]
    return clock
