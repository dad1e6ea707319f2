"""The fallback for unpublished years, checked against the years the State Council did publish.

``WorkCalendar(seed=False)`` uses the fallback for every year, so the published years (the
chinese_calendar tables) are the answer key. The designed differences are listed in
``engine.workcal.fallback``: the fallback applies the 2024 revision of the holiday rules and does not
guess 调休 swaps, so it matches the official count of working days across a whole break (its make-up
days included), not day by day inside it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.workcal.calendar import WorkCalendar
from engine.workcal.fallback import fallback_schedule, statutory_days
from engine.workcal.view import schedule_for_year

D = date.fromisoformat
OFFICIAL = WorkCalendar()
FALLBACK = WorkCalendar(seed=False)
LUNAR_AND_SOLAR_TERM = ("春节", "清明节", "端午节", "中秋节")


def _festival_days(year: int) -> dict[str, tuple[date, ...]]:
    return dict(statutory_days(year))


@pytest.mark.parametrize("year", range(2008, 2027))  # 清明, 端午 and 中秋 are holidays from 2008 on
def test_computed_festival_days_are_official_holidays(year: int) -> None:
    days = _festival_days(year)
    spring = days["春节"][1:] if year < 2025 else days["春节"]  # 除夕 is statutory from 2025
    for name in LUNAR_AND_SOLAR_TERM:
        for d in spring if name == "春节" else days[name]:
            assert not OFFICIAL.is_working_day(d), f"{name} {d} 在 {year} 年官方安排中不是休息日"


def _official_window(year: int, name: str) -> tuple[date, date]:
    """From the day before a festival's official break to its last rest or make-up day."""
    schedule = OFFICIAL.national_schedule(year)
    dates = [d for b in (*schedule.holidays, *schedule.workdays) if b.name in (name, f"{name}调休") for d in b.dates]
    return min(dates) - timedelta(days=1), max(dates)


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("name", ["元旦", *LUNAR_AND_SOLAR_TERM, "劳动节", "国庆节"])
def test_working_days_across_each_break_match_the_official_schedule(year: int, name: str) -> None:
    start, end = _official_window(year, name)
    official = OFFICIAL.working_days_between(start, end)
    assert FALLBACK.working_days_between(start, end) == official, f"{year} {name} {start}..{end}"


@pytest.mark.parametrize("year", [2025, 2026])
def test_a_whole_year_has_the_official_number_of_working_days(year: int) -> None:
    assert schedule_for_year(FALLBACK, year).working_days == schedule_for_year(OFFICIAL, year).working_days == 248


def test_2024_differs_by_the_two_days_the_2024_revision_added() -> None:
    # 除夕 and May 2 became statutory in 2025; the fallback applies the rules in force now.
    for name, extra in (("春节", 1), ("劳动节", 1), ("清明节", 0), ("端午节", 0), ("中秋节", 0)):
        start, end = _official_window(2024, name)
        official = OFFICIAL.working_days_between(start, end)
        assert official - FALLBACK.working_days_between(start, end) == extra, name


def test_spring_festival_2026_fallback_days() -> None:
    spring = next(b for b in fallback_schedule(2026).holidays if b.name == "春节")
    assert spring.dates == tuple(D("2026-02-16") + timedelta(days=i) for i in range(4))  # 除夕 to 初三


def test_a_30_working_day_clock_across_spring_festival_2026_is_not_4_days_early() -> None:
    # Accepted Monday 2026-01-26: the official schedule (9-day break, Saturdays 2/14 and 2/28 worked)
    # gives Friday 2026-03-13; weekdays minus the fixed-date holidays alone gave Monday 2026-03-09.
    assert OFFICIAL.add_working_days(D("2026-01-26"), 30).date == D("2026-03-13")
    assert FALLBACK.add_working_days(D("2026-01-26"), 30).date == D("2026-03-13")


def test_weekend_and_coinciding_festivals_are_made_up_on_the_next_free_weekday() -> None:
    holidays = {b.name: b.dates for b in fallback_schedule(2031).holidays}
    assert holidays["春节"] == (D("2031-01-22"), D("2031-01-23"), D("2031-01-24"), D("2031-01-25"), D("2031-01-27"))
    assert holidays["清明节"] == (D("2031-04-05"), D("2031-04-07"))  # Saturday 4/5, made up on Monday
    # 中秋 falls on 10/1: four statutory days share three dates, so one more weekday is off.
    assert holidays["国庆节"] == (D("2031-10-01"), D("2031-10-02"), D("2031-10-03"))
    assert holidays["中秋节"] == (D("2031-10-06"),)


def test_unpublished_year_view_lists_only_the_swaps_as_unknown() -> None:
    view = schedule_for_year(OFFICIAL, 2027)
    assert not view.published and view.unknown == ("调休安排",)
    names = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"]
    assert [b.name for b in view.national.holidays] == names
    assert OFFICIAL.add_working_days(D("2027-02-04"), 1).date == D("2027-02-11")  # 除夕 2/5 … made-up 2/10


def test_a_year_outside_the_lunar_tables_keeps_the_fixed_date_holidays() -> None:
    # lunardate stops at lunar year 2099; the calendar API accepts dates up to 2100-12-31.
    assert [b.name for b in fallback_schedule(2100).holidays] == ["元旦", "劳动节", "国庆节"]
    result = OFFICIAL.add_working_days(D("2100-12-30"), 5)
    assert (result.date, result.provisional) == (D("2101-01-07"), True)  # 2101-01-01 is a Saturday
