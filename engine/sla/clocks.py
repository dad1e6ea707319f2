"""SLA clocks: when a time limit is due, when to warn, and what state it is in.

A clock runs per instance (the overall limit from 受理) and per active stage
(a user task or a waiting event whose BPMN element carries the
``slaStage`` property). Deadlines are calendar dates in Beijing time: a limit
of 3 working days started on Monday is due at the end of Thursday. Time spent
in a pausing stage (补正, or a 公示 that does not count) moves the overall
deadline by the days it took, counted in the clock's own unit. A stage whose
policy says ``due_from`` is due on the date its task's data names (a 联办
item's own feedback date) rather than ``limit`` days after its start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from engine.clock import SHANGHAI
from engine.sla.policy import Limit, SlaPolicy
from engine.workcal.calendar import PeriodKind, WorkCalendar

ON_TIME, WARNING, OVERDUE, PAUSED, EXTENDED, PROVISIONAL = (
    "on_time",
    "warning",
    "overdue",
    "paused",
    "extended",
    "provisional",
)
CLOSED_ON_TIME, CLOSED_LATE = "closed_on_time", "closed_late"
NO_LIMIT = "none"  # a task no time limit governs (inbox)
# The one table of what a state is called in Chinese: pages, API, exports.
# "overdue" is 超期 everywhere; what an overdue limit raises to a role is 督办.
STATE_LABELS = {
    ON_TIME: "正常",
    WARNING: "预警",
    OVERDUE: "超期",
    PAUSED: "暂停计时",
    EXTENDED: "已延期",
    PROVISIONAL: "暂定（依赖未公布的节假日安排）",
    CLOSED_ON_TIME: "按时办结",
    CLOSED_LATE: "超期办结",
    NO_LIMIT: "无时限",
}


def local_date(moment: datetime) -> date:
    """The Beijing calendar day a moment belongs to. Midnight closes the day
    before it: a deadline "end of D" is 00:00 of D+1, and what happens at that
    instant (a 公示 timer running out) still happened on D."""
    return (moment.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()


def end_of_day(day: date) -> datetime:
    """The moment a deadline day ends: next midnight in Beijing, as UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class SlaClock:
    instance_id: str
    key: str  # "overall" or "task:<task id>"
    stage: str
    name: str
    policy_id: str
    region: str | None
    started_at: datetime
    limit: int
    unit: str
    roll_to_working_day: bool
    warn_before: int
    escalate_to: tuple[str, ...]
    due_on: date
    due_at: datetime
    warn_at: datetime | None
    provisional: bool
    calendar_version: str
    task_id: str | None = None
    element_id: str | None = None
    paused_since: datetime | None = None
    paused_days: int = 0
    extended: bool = False
    warned: bool = False
    overdue: bool = False  # once overdue (督办 raised), a clock stays late even if extended
    closed_at: datetime | None = None
    due_from: str | None = None  # the task data path the fixed deadline came from
    fixed_due_on: date | None = None  # that deadline (the limit is then not counted)
    partner: str | None = None  # the 联办 department working the task, if any

    @property
    def open(self) -> bool:
        return self.closed_at is None

    def next_check(self) -> datetime | None:
        """When the sweeper must next look at this clock."""
        if not self.open or self.paused_since is not None:
            return None
        if not self.warned and self.warn_at is not None and self.warn_at < self.due_at:
            return self.warn_at
        return None if self.overdue else self.due_at

    def to_payload(self) -> dict[str, Any]:
        payload = {
            "stage": self.stage,
            "name": self.name,
            "policy": self.policy_id,
            "limit": self.limit,
            "unit": self.unit,
            "due_on": self.due_on.isoformat(),
            "provisional": self.provisional,
            "calendar_version": self.calendar_version,
        }
        if self.due_from:
            payload["due_from"] = self.due_from
        if self.partner:
            payload["partner"] = self.partner
        return payload


def _working_days_before(calendar: WorkCalendar, day: date, n: int, region: str | None) -> date:
    while n > 0:
        day -= timedelta(days=1)
        n -= calendar.is_working_day(day, region=region)
    return day


def _schedule_fixed(clock: SlaClock, due_on: date, calendar: WorkCalendar) -> SlaClock:
    """A deadline given by the data: only the warning is counted back from it."""
    warn_at = None
    if clock.warn_before:
        warn_at = end_of_day(_working_days_before(calendar, due_on, clock.warn_before, clock.region))
    years = range(local_date(clock.started_at).year, due_on.year + 1)
    return replace(
        clock,
        due_on=due_on,
        due_at=end_of_day(due_on),
        warn_at=warn_at,
        provisional=not all(calendar.is_published(y, region=clock.region) for y in years),
        calendar_version=calendar.version(clock.region),
    )


def schedule(clock: SlaClock, calendar: WorkCalendar) -> SlaClock:
    """Recompute due and warning moments from the clock's basis."""
    if clock.fixed_due_on is not None:
        return _schedule_fixed(clock, clock.fixed_due_on, calendar)
    start = local_date(clock.started_at)
    n = clock.limit + clock.paused_days
    due = calendar.deadline(start, n, clock.unit, region=clock.region, roll_to_working_day=clock.roll_to_working_day)
    warn_at, provisional = None, due.provisional
    if clock.warn_before:
        warn = calendar.deadline(
            start, n - clock.warn_before, clock.unit, region=clock.region, roll_to_working_day=False
        )
        warn_at, provisional = end_of_day(warn.date), provisional or warn.provisional
    return replace(
        clock,
        due_on=due.date,
        due_at=end_of_day(due.date),
        warn_at=warn_at,
        provisional=provisional,
        calendar_version=due.calendar_version,
    )


def start_clock(
    *,
    instance_id: str,
    key: str,
    limit: Limit,
    policy: SlaPolicy,
    region: str | None,
    now: datetime,
    calendar: WorkCalendar,
    task_id: str | None = None,
    element_id: str | None = None,
    fixed_due_on: date | None = None,
    partner: str | None = None,
) -> SlaClock:
    """A new clock; ``fixed_due_on`` is the date the task's data gave for a
    ``due_from`` limit (None: count ``limit`` from ``now``)."""
    draft = SlaClock(
        instance_id=instance_id,
        key=key,
        stage=limit.key,
        name=limit.name,
        policy_id=f"{policy.id}@{policy.version}",
        region=region,
        started_at=now,
        limit=limit.limit,
        unit=limit.unit.value,
        roll_to_working_day=limit.roll_to_working_day,
        warn_before=limit.warn_before,
        escalate_to=limit.escalate_to,
        due_on=local_date(now),
        due_at=now,
        warn_at=None,
        provisional=False,
        calendar_version="",
        task_id=task_id,
        element_id=element_id,
        due_from=".".join(limit.due_from) if limit.due_from and fixed_due_on else None,
        fixed_due_on=fixed_due_on,
        partner=partner,
    )
    if fixed_due_on is not None:
        # What the data's date amounts to, for the lists that show a limit.
        start = local_date(now)
        draft = replace(draft, limit=max(calendar.working_days_between(start, fixed_due_on, region=region), 0))
    return schedule(draft, calendar)


def pause(clock: SlaClock, now: datetime) -> SlaClock:
    return clock if clock.paused_since is not None else replace(clock, paused_since=now)


def resume(clock: SlaClock, now: datetime, calendar: WorkCalendar) -> SlaClock:
    if clock.paused_since is None:
        return clock
    since, until = local_date(clock.paused_since), local_date(now)
    if clock.unit == PeriodKind.WORKING_DAYS:
        days = calendar.working_days_between(since, until, region=clock.region)
    else:
        days = (until - since).days
    return schedule(replace(clock, paused_since=None, paused_days=clock.paused_days + max(days, 0)), calendar)


def extend(clock: SlaClock, new_limit: int, calendar: WorkCalendar) -> SlaClock:
    return schedule(replace(clock, limit=new_limit, extended=True, warned=False, overdue=False), calendar)


def state(clock: SlaClock, now: datetime) -> str:
    if clock.closed_at is not None:
        on_time = clock.closed_at <= clock.due_at and not clock.overdue
        return CLOSED_ON_TIME if on_time else CLOSED_LATE
    if clock.paused_since is not None:
        return PAUSED
    if now >= clock.due_at:
        return OVERDUE
    if clock.warn_at is not None and now >= clock.warn_at:
        return WARNING
    if clock.extended:
        return EXTENDED
    return PROVISIONAL if clock.provisional else ON_TIME


def days_until(due_on: date, unit: str, now: datetime, calendar: WorkCalendar, *, region: str | None) -> int:
    """Days from ``now`` to the deadline day, counted in ``unit``: natural days
    for a natural-day limit, working days otherwise (negative once overdue).
    The inbox counts from its index row with this, the case page from the clock."""
    if unit == PeriodKind.NATURAL_DAYS:
        return (due_on - local_date(now)).days
    return calendar.working_days_between(local_date(now), due_on, region=region)


def days_left(clock: SlaClock, now: datetime, calendar: WorkCalendar) -> int:
    """What is left in the clock's own unit: a 公示 of 7 natural days counts
    natural days down, a working-day limit counts working days."""
    return days_until(clock.due_on, clock.unit, now, calendar, region=clock.region)


_DATETIMES = ("started_at", "due_at", "warn_at", "paused_since", "closed_at")
_DATES = ("due_on", "fixed_due_on")


def clock_to_dict(clock: SlaClock) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in SlaClock.__dataclass_fields__:
        value = getattr(clock, name)
        data[name] = value.isoformat() if isinstance(value, date) else value
    return data


def clock_from_dict(data: dict[str, Any]) -> SlaClock:
    values = dict(data)
    for name in _DATETIMES:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    for name in _DATES:
        if values.get(name):
            values[name] = date.fromisoformat(values[name])
    # Clocks stored before the SLA vocabulary was settled call "overdue" "breached".
    if "breached" in values:
        values["overdue"] = values.pop("breached")
    # Clocks stored before a limit could escalate to several roles hold one name.
    targets = values.get("escalate_to")
    values["escalate_to"] = (targets,) if isinstance(targets, str) else tuple(targets or ())
    return SlaClock(**values)
