"""The provisional schedule for a year whose State Council notice is not loaded yet.

The rule, from 《全国年节及纪念日放假办法》 as revised on 2024-11-10 (assistance-rules.md §4.1, [S36]):

- The 13 statutory days are rest days: 元旦 (Jan 1); 春节 (除夕 and 正月初一 to 初三); 清明节 (the
  day of the 清明 solar term); 劳动节 (May 1–2); 端午节 (五月初五); 中秋节 (八月十五); 国庆节 (Oct 1–3).
  Lunar dates come from ``lunardate``; the 清明 solar term from ``chinese_calendar.get_solar_terms``
  (astronomical, 1900–2100, unlike its holiday tables). 除夕 is the day before 正月初一, so it is the
  29th in a short 腊月.
- 第6条: a statutory day that falls on a Saturday or Sunday, or on another festival's day (中秋 on
  Oct 1–3, as in 2031), is made up by a weekday off: the first weekday after that festival that is
  not already a rest day. This is what the published schedules do (2026: 清明 on Sunday Apr 5, Monday
  Apr 6 off; 2025: 端午 on Saturday May 31, Monday Jun 2 off).
- The 调休 swaps are not guessed. The State Council joins the statutory days to weekends into long
  breaks (2026 春节: 9 days, Feb 15–23) and pays each extra weekday back with a make-up Saturday or
  Sunday (Feb 14 and Feb 28). A swap adds one rest day and one working day, so across a whole break
  and its make-up days the fallback loses exactly as many working days as the official schedule
  (春节 2026: 4 both ways). A deadline that lands between the first and the last swapped day can
  differ by a few days; that is why every result touching a fallback year stays provisional and is
  recomputed when the year's schedule is loaded.

Designed differences from the past (tests/engine/workcal/test_fallback.py checks these):
before 2025, 除夕 was not statutory and 劳动节 was one day, so the fallback for 2024 has one rest day
more in each; before 2008, 清明, 端午 and 中秋 were not holidays at all. The fallback describes the law
in force now, for future years only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache

import chinese_calendar
from lunardate import LunarDate

from engine.workcal.schedule import DayBlock, Schedule

FALLBACK_VERSION = "fallback-statutory-2024"
FALLBACK_SOURCE = "fallback: 《全国年节及纪念日放假办法》（2024年修订）第2、6条；农历 lunardate，节气 chinese_calendar"
# What the fallback still cannot know; shown by ``jiuzhu calendar show`` for an unpublished year.
FALLBACK_UNKNOWN = ("调休安排",)
_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
# lunardate's tables cover lunar years 1900–2099 (chinese_calendar's solar terms 1900–2100). Outside
# them only the fixed-date holidays are known; the API accepts dates up to 2100-12-31.
FIRST_YEAR, LAST_YEAR = 1900, 2099


def statutory_days(year: int) -> list[tuple[str, tuple[date, ...]]]:
    """The statutory festivals of ``year`` in date order, each with its statutory days."""
    festivals = [
        ("元旦", (date(year, 1, 1),)),
        ("劳动节", (date(year, 5, 1), date(year, 5, 2))),
        ("国庆节", (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3))),
    ]
    if FIRST_YEAR <= year <= LAST_YEAR:
        new_year = LunarDate(year, 1, 1).to_solar_date()
        festivals += [
            ("春节", tuple(new_year + i * _ONE_DAY for i in range(-1, 3))),
            ("清明节", (_qingming(year),)),
            ("端午节", (LunarDate(year, 5, 5).to_solar_date(),)),
            ("中秋节", (LunarDate(year, 8, 15).to_solar_date(),)),
        ]
    return sorted(festivals, key=lambda f: f[1][0])


@cache  # every new WorkCalendar (one per calendar load) asks again
def fallback_schedule(year: int) -> Schedule:
    """The statutory days of ``year`` plus their 第6条 make-up weekdays; no 调休 swaps."""
    taken: set[date] = set()
    blocks: list[DayBlock] = []
    for name, days in statutory_days(year):
        owed = 0
        mine: list[date] = []
        for d in days:
            if d.weekday() >= _SATURDAY or d in taken:
                owed += 1
            if d not in taken:
                taken.add(d)
                mine.append(d)
        for d in _weekdays_after(days[-1]):
            if owed == 0:
                break
            if d not in taken:
                taken.add(d)
                mine.append(d)
                owed -= 1
        if mine:
            blocks.append(DayBlock(name, tuple(mine)))
    return Schedule(year, FALLBACK_VERSION, None, holidays=tuple(blocks), source=FALLBACK_SOURCE)


def _qingming(year: int) -> date:
    start = date(year, 4, 1)
    terms = [d for d, name in chinese_calendar.get_solar_terms(start, start + 9 * _ONE_DAY) if name == "清明"]
    assert len(terms) == 1, f"{year} 年 4 月 1 日至 10 日应恰有一个清明节气，实际 {terms}"
    return terms[0]


def _weekdays_after(d: date) -> Iterator[date]:
    while True:
        d += _ONE_DAY
        if d.weekday() < _SATURDAY:
            yield d
