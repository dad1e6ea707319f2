"""The built-in schedules: chinese_calendar's tables (for the fallback see ``engine.workcal.fallback``).

The seed reads the library's ``holidays`` and ``workdays`` tables once. Its helper functions are not
used. They re-check the year on every call, and two of them give wrong answers for our purpose
(assistance-rules.md §4.2): ``find_workday(1, d)`` skips a day when ``d`` is a holiday, and
``get_workdays(..., include_weekends=False)`` drops 调休 make-up Saturdays.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import cache

import chinese_calendar

from engine.workcal.schedule import DayBlock, Schedule

SEED_LABEL = f"cn-seed-{chinese_calendar.__version__}"
SEED_SOURCE = f"chinese_calendar {chinese_calendar.__version__}"

_CN_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _blocks(days: dict[date, str], suffix: str) -> dict[int, tuple[DayBlock, ...]]:
    grouped: dict[int, dict[str, list[date]]] = defaultdict(lambda: defaultdict(list))
    for day, name in sorted(days.items()):
        grouped[day.year][_CN_NAMES.get(str(name), str(name)) + suffix].append(day)
    return {
        year: tuple(sorted((DayBlock(n, tuple(ds)) for n, ds in names.items()), key=lambda b: b.dates[0]))
        for year, names in grouped.items()
    }


@cache
def seed_schedules() -> tuple[Schedule, ...]:
    """One national schedule for each year chinese_calendar covers (2004–2026 in 1.11.0)."""
    holidays = _blocks(chinese_calendar.holidays, "")
    workdays = _blocks(chinese_calendar.workdays, "调休")
    first, last = min(holidays), max(holidays)
    return tuple(
        Schedule(year, SEED_LABEL, None, holidays.get(year, ()), workdays.get(year, ()), None, SEED_SOURCE)
        for year in range(first, last + 1)
    )
