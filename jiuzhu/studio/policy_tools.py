"""The time-limit editor's server half: check a draft policy as deploy
would, and dry-run it on the calendar in force.

Stateless: the editor sends the policy text it holds. The check is
:func:`engine.sla.policy.load_policy` plus what loading it would break in the
deployed processes (:func:`engine.service.deploying.policy_conflicts`), the
two checks ``jiuzhu deploy`` runs on a ``*.sla.json``. The dry run starts
each limit's clock as a case would (:func:`engine.sla.clocks.start_clock` on
the engine's own calendar), so its deadlines are the ones a case gets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.clock import SHANGHAI
from engine.errors import Location, Problem
from engine.service.deploying import policy_conflicts
from engine.service.facade import Engine
from engine.sla.clocks import PROVISIONAL, STATE_LABELS, local_date, start_clock
from engine.sla.policy import Limit, PolicyInvalid, SlaPolicy, load_policy
from engine.workcal.calendar import PeriodKind, WorkCalendar
from jiuzhu.studio.form_tools import problem_dict

UNIT_ZH = {PeriodKind.WORKING_DAYS: "工作日", PeriodKind.NATURAL_DAYS: "自然日"}
_ONE_DAY = timedelta(days=1)
_ACCEPTED_AT = time(9)  # any moment of the day: a clock counts from the Beijing day it starts on


def parse(text: str, *, name: str) -> tuple[SlaPolicy | None, list[Problem]]:
    try:
        return load_policy(text, source=name), []
    except PolicyInvalid as invalid:
        return None, invalid.problems()


def check(engine: Engine, text: str, *, name: str, regions: Iterable[str] = ()) -> dict[str, Any]:
    """``{"problems", "policy", "regions"}``: deploy's findings, and the regions a dry run can pick."""
    policy, problems = parse(text, name=name)
    if policy is not None:
        problems = [_in_file(p, name) for p in policy_conflicts(engine.versions(), [policy])]
    return {
        "problems": [problem_dict(p) for p in problems],
        "policy": _summary(policy) if policy is not None else None,
        "regions": region_choices(policy, engine.calendar(), regions) if policy is not None else [],
    }


def _in_file(problem: Problem, name: str) -> Problem:
    # A conflict is located in the deployed model; the editor shows it on the policy it edits.
    where = problem.location
    element = f" 环节 {where.element_id}" if where.element_id else ""
    message = f"{problem.message}（已部署的 {where.file}{element}）"
    return Problem(problem.code, message, Location(file=name, element_id=where.element_id, field=where.field))


def _summary(policy: SlaPolicy) -> dict[str, Any]:
    return {"id": policy.id, "version": policy.version, "title": policy.title, "processes": list(policy.processes),
            "regions": list(policy.regions)}  # fmt: skip


def governs(policy: SlaPolicy, region: str) -> bool:
    return any(region == prefix or region.startswith(prefix + "-") for prefix in policy.regions)


def region_choices(policy: SlaPolicy, calendar: WorkCalendar, known: Iterable[str]) -> list[str]:
    """The policy's own regions, then the org units' and the regional calendars' regions it governs."""
    out = list(policy.regions)
    for region in sorted({*known, *calendar.regions}):
        if region not in out and governs(policy, region):
            out.append(region)
    return out


@dataclass(frozen=True)
class _Day:
    day: date
    kind: str  # holiday | workday (调休上班)
    name: str


def dry_run(engine: Engine, text: str, *, name: str, region: str | None, accepted_on: date) -> dict[str, Any]:
    """Every limit of the policy started on ``accepted_on`` (as if its stage began that day):
    its deadline, warning day and the holidays and 调休 days it spans.

    Raises :class:`PolicyInvalid` (located) for a policy that does not load."""
    policy = load_policy(text, source=name)
    calendar = engine.calendar()
    where = region or policy.regions[0]
    warnings = []
    if not governs(policy, where):
        regions = "、".join(policy.regions)
        warnings.append(f"地区 {where} 不在此时限政策的适用地区（{regions}）内，实际案件不会采用此政策")
    rows = [_row(calendar, policy, limit, where, accepted_on) for limit in [policy.overall, *policy.stages.values()]]
    return {
        "policy": _summary(policy),
        "region": where,
        "accepted_on": accepted_on.isoformat(),
        "calendar_version": calendar.version(where),
        "stages": rows,
        "warnings": warnings,
    }


def _row(calendar: WorkCalendar, policy: SlaPolicy, limit: Limit, region: str, accepted_on: date) -> dict[str, Any]:
    moment = datetime.combine(accepted_on, _ACCEPTED_AT, SHANGHAI)
    clock = start_clock(
        instance_id="studio-dry-run", key=limit.key, limit=limit, policy=policy, region=region, now=moment,
        calendar=calendar,
    )  # fmt: skip
    notes = []
    if limit.due_from:
        notes.append(f"实际期限取自任务数据 {'.'.join(limit.due_from)}，无该日期时按此时限计算")
    if limit.key in policy.pause_stages or not limit.counts_in_overall:
        notes.append("此环节期间总时限暂停计时")
    if limit.key == "overall" and limit.starts_at:
        notes.append(f"自「{'、'.join(limit.starts_at)}」办结之日起算")
    return {
        "stage": limit.key,
        "name": limit.name,
        "limit": limit.limit,
        "unit": limit.unit.value,
        "unit_label": UNIT_ZH[limit.unit],
        "roll_to_working_day": limit.roll_to_working_day,
        "start": accepted_on.isoformat(),
        "deadline": clock.due_on.isoformat(),
        "warn_on": local_date(clock.warn_at).isoformat() if clock.warn_at else None,
        "provisional": clock.provisional,
        "provisional_label": STATE_LABELS[PROVISIONAL] if clock.provisional else None,
        "counts_in_overall": limit.counts_in_overall,
        "escalate_to": list(limit.escalate_to),
        "source": limit.source,
        "notes": notes,
        **calendar_notes(calendar, accepted_on, clock.due_on, region),
    }


def calendar_notes(calendar: WorkCalendar, start: date, end: date, region: str) -> dict[str, list[dict[str, Any]]]:
    """The holidays and 调休 make-up days a period from ``start`` to ``end`` spans, by name."""
    days = _days_between(calendar, start, end, region)
    return {
        "holidays": _blocks(d for d in days if d.kind == "holiday"),
        "workdays": _blocks(d for d in days if d.kind == "workday"),
    }


def _days_between(calendar: WorkCalendar, start: date, end: date, region: str) -> list[_Day]:
    """Holidays (weekend days inside a holiday block too) and 调休 make-up days in (start, end]."""
    names: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        schedules = [calendar.national_schedule(year), calendar.regional_schedule(region, year)]
        for schedule in filter(None, schedules):
            for block in (*schedule.holidays, *schedule.workdays):
                names.update(dict.fromkeys(block.dates, block.name))
    out, day = [], start + _ONE_DAY
    while day <= end:
        working = calendar.is_working_day(day, region=region)
        weekend = day.weekday() >= 5
        if not working and (not weekend or day in names):
            out.append(_Day(day, "holiday", names.get(day, "节假日")))
        elif working and weekend:
            out.append(_Day(day, "workday", names.get(day, "调休上班")))
        day += _ONE_DAY
    return out


def _blocks(days: Iterable[_Day]) -> list[dict[str, Any]]:
    grouped: dict[str, list[str]] = {}
    for d in days:
        grouped.setdefault(d.name, []).append(d.day.isoformat())
    return [{"name": n, "dates": ds} for n, ds in grouped.items()]
