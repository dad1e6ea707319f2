"""The one way time is shown: deadlines as the Beijing day they run out, moments to the minute."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.clock import SHANGHAI
from engine.sla.clocks import end_of_day
from jiuzhu import timefmt


def test_a_deadline_at_beijing_midnight_is_the_day_before_it() -> None:
    due = end_of_day(date(2026, 3, 9))  # 24:00 Beijing on 03-09, stored as 03-09 16:00 UTC
    assert due == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    assert due.astimezone(SHANGHAI).strftime("%Y-%m-%d") == "2026-03-10"  # the old, wrong display
    assert timefmt.deadline(due) == "2026-03-09"
    assert timefmt.deadline(due.isoformat()) == "2026-03-09"
    assert timefmt.deadline(date(2026, 3, 9)) == timefmt.deadline("2026-03-09") == "2026-03-09"
    assert timefmt.deadline(None) == "—"
    assert timefmt.due_moment(due) == "2026-03-09 24:00"
    assert timefmt.due_moment(datetime(2026, 3, 9, 1, 0, tzinfo=UTC)) == "2026-03-09 09:00"


def test_moments_and_days_are_beijing_time() -> None:
    late = datetime(2026, 11, 2, 17, 5, 9, tzinfo=UTC)  # 01:05 on 11-03 in Beijing
    assert timefmt.moment(late) == "2026-11-03 01:05"
    assert timefmt.moment(late, seconds=True) == "2026-11-03 01:05:09"
    assert timefmt.moment(late.isoformat()) == "2026-11-03 01:05"
    assert timefmt.day(late) == "2026-11-03" and timefmt.day_of(late) == date(2026, 11, 3)
    midnight = datetime(2026, 11, 3, 0, 0, tzinfo=SHANGHAI)
    assert timefmt.day(midnight) == "2026-11-03"  # a moment at 00:00 starts its day
    assert timefmt.moment(None) == timefmt.day(None) == "—"
    assert timefmt.chinese_day(date(2026, 3, 2)) == "2026年3月2日"


def test_days_left_are_told_in_the_clocks_own_unit() -> None:
    assert timefmt.days_left_text(3, "working_days") == "3个工作日"
    assert timefmt.days_left_text(5, "natural_days") == "5天"
    assert timefmt.days_left_text(-2, "working_days") == "已超期 2个工作日"
    assert timefmt.days_left_text(None, "natural_days") == "—"
