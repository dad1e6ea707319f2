"""Clock arithmetic in engine/sla/clocks.py and the working-day helpers for BPMN."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.clock import SHANGHAI
from engine.errors import ScriptError
from engine.sla import clocks as sla
from engine.sla.functions import HELPERS, SlaContext, sla_context
from engine.sla.policy import Limit, SlaPolicy
from engine.workcal.calendar import PeriodKind, WorkCalendar

CAL = WorkCalendar()
MONDAY = datetime(2026, 9, 21, 9, 0, tzinfo=SHANGHAI)


def policy(**stages: Limit) -> SlaPolicy:
    overall = Limit("overall", "总时限", 30, PeriodKind.WORKING_DAYS, warn_before=5)
    return SlaPolicy("p", "1", "dibao", "t", "s", ("proc",), ("CN",), overall, stages)


def clock(limit: Limit, started: datetime = MONDAY) -> sla.SlaClock:
    return sla.start_clock(
        instance_id="i", key="k", limit=limit, policy=policy(), region=None, now=started, calendar=CAL
    )


def test_deadline_is_the_end_of_the_day_in_beijing() -> None:
    c = clock(Limit("s", "启动调查", 3, PeriodKind.WORKING_DAYS, warn_before=1))
    assert c.due_on == date(2026, 9, 24)
    assert c.due_at == datetime(2026, 9, 24, 16, 0, tzinfo=UTC)
    assert c.warn_at == datetime(2026, 9, 23, 16, 0, tzinfo=UTC)
    assert c.next_check() == c.warn_at


def test_states_in_order() -> None:
    c = clock(Limit("s", "n", 3, PeriodKind.WORKING_DAYS, warn_before=1))
    assert sla.state(c, MONDAY) == sla.ON_TIME
    assert sla.state(c, c.warn_at) == sla.WARNING  # type: ignore[arg-type]
    assert sla.state(c, c.due_at) == sla.OVERDUE
    assert sla.state(sla.pause(c, MONDAY), c.due_at) == sla.PAUSED
    assert sla.state(replace(c, closed_at=c.due_at), MONDAY) == sla.CLOSED_ON_TIME  # a 公示 ending on time
    assert sla.state(replace(c, closed_at=c.due_at, overdue=True), MONDAY) == sla.CLOSED_LATE  # 督办 came first
    assert sla.state(replace(c, closed_at=c.due_at + timedelta(microseconds=1)), MONDAY) == sla.CLOSED_LATE
    assert sla.state(replace(c, extended=True), MONDAY) == sla.EXTENDED


def test_natural_day_periods_roll_off_rest_days() -> None:
    # 公示 7 天 from Thursday 24 September ends on Thursday 1 October (国庆): rolls to 8 October.
    c = clock(Limit("publicity", "公示", 7, PeriodKind.NATURAL_DAYS), datetime(2026, 9, 24, 10, 0, tzinfo=SHANGHAI))
    assert c.due_on == date(2026, 10, 8)
    no_roll = Limit("publicity", "公示", 7, PeriodKind.NATURAL_DAYS, roll_to_working_day=False)
    assert clock(no_roll, datetime(2026, 9, 24, 10, 0, tzinfo=SHANGHAI)).due_on == date(2026, 10, 1)


def test_days_left_count_in_the_clocks_own_unit() -> None:
    # Thursday 24 September: the 公示 runs to 8 October (国庆 in between), 14 days away;
    # a working-day limit due the same day is only 4 working days away (中秋 is 25 September).
    thursday = datetime(2026, 9, 24, 10, 0, tzinfo=SHANGHAI)
    publicity = clock(Limit("publicity", "公示", 7, PeriodKind.NATURAL_DAYS), thursday)
    assert sla.days_left(publicity, thursday, CAL) == 14
    assert sla.days_until(publicity.due_on, "natural_days", thursday, CAL, region=None) == 14
    assert sla.days_until(publicity.due_on, "working_days", thursday, CAL, region=None) == 4
    assert sla.days_left(publicity, datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI), CAL) == -2  # overdue


def test_pause_moves_the_deadline_by_the_paused_working_days() -> None:
    c = clock(Limit("overall", "总时限", 30, PeriodKind.WORKING_DAYS))
    paused = sla.pause(c, MONDAY)
    assert paused.next_check() is None
    resumed = sla.resume(paused, datetime(2026, 10, 9, 9, 0, tzinfo=SHANGHAI), CAL)
    assert resumed.paused_days == CAL.working_days_between(date(2026, 9, 21), date(2026, 10, 9))
    assert resumed.due_on == CAL.add_working_days(date(2026, 9, 21), 30 + resumed.paused_days).date


def test_round_trip_through_json() -> None:
    c = sla.pause(clock(Limit("s", "n", 3, PeriodKind.WORKING_DAYS, warn_before=1)), MONDAY)
    assert sla.clock_from_dict(sla.clock_to_dict(c)) == c


def test_a_deadline_from_the_data_is_kept_and_warned_in_working_days() -> None:
    limit = Limit("partner_result", "联办部门办理反馈", 10, PeriodKind.WORKING_DAYS, warn_before=2,
                  escalate_to=("联办部门负责人", "县级民政局"), due_from=("handoff", "due_on"))  # fmt: skip
    started = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)  # the day before 国庆
    c = sla.start_clock(instance_id="i", key="task:t", limit=limit, policy=policy(), region=None, now=started,
                        calendar=CAL, task_id="t", fixed_due_on=date(2026, 10, 12), partner="供电公司")  # fmt: skip
    # 10月8日, 9日, 10日（星期六上班）, 12日: the item's date stands; 2 working days before it is 10月9日.
    assert (c.due_on, c.limit, c.due_from, c.partner) == (date(2026, 10, 12), 4, "handoff.due_on", "供电公司")
    assert c.warn_at == sla.end_of_day(date(2026, 10, 9))
    assert sla.schedule(c, CAL) == c and sla.clock_from_dict(sla.clock_to_dict(c)) == c
    assert c.to_payload()["due_from"] == "handoff.due_on"
    counted = sla.start_clock(instance_id="i", key="k", limit=limit, policy=policy(), region=None, now=started,
                              calendar=CAL)  # fmt: skip
    assert counted.due_on == CAL.add_working_days(date(2026, 9, 30), 10).date and counted.due_from is None


def test_clocks_stored_with_one_escalation_role_still_load() -> None:
    stored = sla.clock_to_dict(clock(Limit("s", "n", 3, PeriodKind.WORKING_DAYS)))
    assert sla.clock_from_dict({**stored, "escalate_to": "县级民政局"}).escalate_to == ("县级民政局",)
    old = {k: v for k, v in stored.items() if k not in ("due_from", "fixed_due_on", "partner")}
    assert sla.clock_from_dict({**old, "escalate_to": None}).escalate_to == ()


def test_clocks_stored_as_breached_load_as_overdue() -> None:
    stored = sla.clock_to_dict(clock(Limit("s", "n", 3, PeriodKind.WORKING_DAYS)))
    del stored["overdue"]
    assert sla.clock_from_dict({**stored, "breached": True}).overdue
    assert not sla.clock_from_dict({**stored, "breached": False}).overdue


def test_helpers_use_the_instance_context() -> None:
    stage = Limit("publicity", "公示", 7, PeriodKind.NATURAL_DAYS)
    with sla_context(SlaContext(CAL, policy(publicity=stage), None, MONDAY)):
        assert HELPERS["add_working_days"]("2026-09-30", 1) == "2026-10-08T16:00:00+00:00"
        assert HELPERS["sla_due"]("publicity") == "2026-09-28T16:00:00+00:00"
        assert HELPERS["sla_due"]("overall").startswith("2026-11-09")
        assert HELPERS["today"]() == "2026-09-21"
        with pytest.raises(ScriptError):
            HELPERS["add_working_days"]("30/09/2026", 1)
    with pytest.raises(ScriptError) as outside:
        HELPERS["today"]()
    assert outside.value.code == "SLA_NO_CONTEXT"
