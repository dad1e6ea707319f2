"""Working-day calendar for SLA timers. It is pure: dates go in and dates come out, and no clock is read.

Counting rules (assistance-rules.md §4.1; 民法典 第201/203条; 行政许可法 第82条)
=========================================================================

- ``add_working_days(start, n)``: the n-th working day after ``start``. The start day is not counted,
  so a start on a holiday or a weekend works too (unlike ``chinese_calendar.find_workday``).
  ``n == 0`` gives ``start`` if it is a working day, otherwise the next working day. That is the
  earliest day an act "within 0 working days" can happen.
- ``working_days_between(a, b)``: the number of working days in ``(a, b]``. It is negative when
  ``b < a``. For ``n >= 1``, ``working_days_between(s, add_working_days(s, n).date) == n``.
- ``add_natural_days(start, n)``: ``start + n`` days (e.g. 公示 7 天). With ``roll_to_working_day``
  (the default), a period that ends on a rest day ends on the next working day instead (第203条).
- A working day is a Monday to Friday that is not a holiday, or a 调休 make-up weekend day.

Where the data comes from
=========================

Years 2004–2026 come from the chinese_calendar tables (``engine.workcal.seed``). Schedules that an
administrator loads (``engine.workcal.schedule``) replace a seeded year completely. Regional
schedules apply only when their ``region`` is asked for. For the dates they list, they win over the
national schedule: a regional holiday is a rest day, and a regional make-up day is a working day.

A year with no national schedule falls back to weekdays minus its statutory holidays, the lunar and
solar-term ones included, and their 第6条 make-up weekdays, without 调休 swaps (``engine.workcal.fallback``).
Any result that examined a day of such a year has ``provisional=True``. The same applies to a region
that has schedules for some years but not for the year in question. To record "no extra days this
year" for a region, load an empty regional schedule.

Recomputing running deadlines
=============================

Store ``(start, n, kind, region, roll_to_working_day)`` with every timer. When a schedule is loaded,
build the new calendar with ``calendar.with_schedules(new)``. Then call ``deadline`` for each timer
that is provisional, or whose ``calendar_version`` differs from ``calendar.version(region)``. The
version is ``label#digest``: the label lists the loaded schedules (``cn-seed-1.11.0+2027@v1``), and
the digest covers every date that can affect a result.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.errors import InvalidRequestError, Location
from engine.workcal.fallback import FALLBACK_VERSION, fallback_schedule
from engine.workcal.schedule import ARGUMENT_INVALID, Schedule, schedule_to_dict
from engine.workcal.seed import SEED_LABEL, seed_schedules

_ONE_DAY = _dt.timedelta(days=1)
CONFLICT = "CALENDAR_CONFLICT"


class PeriodKind(StrEnum):
    WORKING_DAYS = "working_days"
    NATURAL_DAYS = "natural_days"


@dataclass(frozen=True)
class CalendarResult:
    date: _dt.date
    provisional: bool  # True if a day of an unpublished year was examined
    calendar_version: str


@dataclass(frozen=True)
class _Year:
    off: frozenset[_dt.date]
    on: frozenset[_dt.date]
    published: bool

    def is_working(self, d: _dt.date) -> bool:
        return d in self.on or (d.weekday() < 5 and d not in self.off)


class WorkCalendar:
    """Immutable. Build it once per set of schedules and share it between timers."""

    def __init__(self, schedules: Iterable[Schedule] = (), *, seed: bool = True) -> None:
        self._loaded = tuple(schedules)
        self._seed = seed
        self._winners = _newest(self._loaded)
        self._national = {s.year: s for s in seed_schedules()} if seed else {}
        self._national.update({s.year: s for s in self._winners if s.region is None})
        self._regional = {(s.region, s.year): s for s in self._winners if s.region is not None}
        self._regions = frozenset(r for r, _ in self._regional)
        self._years: dict[tuple[str | None, int], _Year] = {}
        self._versions: dict[str | None, str] = {}

    def with_schedules(self, *schedules: Schedule) -> WorkCalendar:
        return WorkCalendar((*self._loaded, *schedules), seed=self._seed)

    @property
    def regions(self) -> frozenset[str]:
        return self._regions

    def national_schedule(self, year: int) -> Schedule:
        """The schedule in force for ``year``: the fallback if none is published."""
        return self._national.get(year) or fallback_schedule(year)

    def regional_schedule(self, region: str, year: int) -> Schedule | None:
        return self._regional.get((region, year))

    def is_published(self, year: int, *, region: str | None = None) -> bool:
        return self._year(year, region).published

    def is_working_day(self, d: _dt.date, *, region: str | None = None) -> bool:
        _check_day(d, "d")
        return self._year(d.year, region).is_working(d)

    def add_working_days(self, start: _dt.date, n: int, *, region: str | None = None) -> CalendarResult:
        _check_day(start, "start")
        _check_count(n)
        day, provisional = self._next_working(start if n == 0 else start + _ONE_DAY, max(n, 1), region)
        return CalendarResult(day, provisional, self.version(region))

    def working_days_between(self, a: _dt.date, b: _dt.date, *, region: str | None = None) -> int:
        _check_day(a, "a")
        _check_day(b, "b")
        if b < a:
            return -self.working_days_between(b, a, region=region)
        count, d = 0, a
        while d < b:
            d += _ONE_DAY
            count += self._year(d.year, region).is_working(d)
        return count

    def add_natural_days(
        self, start: _dt.date, n: int, *, roll_to_working_day: bool = True, region: str | None = None
    ) -> CalendarResult:
        _check_day(start, "start")
        _check_count(n)
        end = _shift(start, n)
        if not roll_to_working_day:
            return CalendarResult(end, False, self.version(region))
        day, provisional = self._next_working(end, 1, region)
        return CalendarResult(day, provisional, self.version(region))

    def deadline(
        self,
        start: _dt.date,
        n: int,
        kind: PeriodKind | str,
        *,
        region: str | None = None,
        roll_to_working_day: bool = True,
    ) -> CalendarResult:
        """The one deadline function: ``n`` working or natural days after
        ``start``. Every limit (SLA clocks, the ``sla_due`` family in models,
        recomputation after a schedule is loaded) is counted here; same inputs,
        same answer."""
        if kind == PeriodKind.WORKING_DAYS:
            return self.add_working_days(start, n, region=region)
        if kind == PeriodKind.NATURAL_DAYS:
            return self.add_natural_days(start, n, roll_to_working_day=roll_to_working_day, region=region)
        message = f"kind: 期限类型应为 working_days 或 natural_days，收到 {kind!r}"
        raise InvalidRequestError(message, code=ARGUMENT_INVALID)

    def version(self, region: str | None = None) -> str:
        cached = self._versions.get(region)
        if cached is not None:
            return cached
        used = sorted((s for s in self._winners if s.region in (None, region)), key=lambda s: (s.region or "", s.year))
        label = "+".join(
            [SEED_LABEL if self._seed else "no-seed"]
            + [f"{s.year}{'/' + s.region if s.region else ''}@{s.version}" for s in used]
        )
        digest = hashlib.sha256(FALLBACK_VERSION.encode())
        for s in [*sorted(self._national.values(), key=lambda s: s.year), *used]:
            digest.update(repr(sorted(schedule_to_dict(s).items())).encode())
        self._versions[region] = version = f"{label}#{digest.hexdigest()[:12]}"
        return version

    def _next_working(self, d: _dt.date, n: int, region: str | None) -> tuple[_dt.date, bool]:
        """The n-th working day counting ``d`` itself (n >= 1), and whether an unpublished year was seen."""
        year_number, year = d.year, self._year(d.year, region)
        provisional = not year.published
        try:
            while True:
                if d.year != year_number:
                    year_number, year = d.year, self._year(d.year, region)
                    provisional = provisional or not year.published
                if year.is_working(d):
                    n -= 1
                    if n == 0:
                        return d, provisional
                d += _ONE_DAY
        except OverflowError:
            raise InvalidRequestError("日期超出可计算的范围", code=ARGUMENT_INVALID) from None

    def _year(self, year: int, region: str | None) -> _Year:
        key = (region, year)
        found = self._years.get(key)
        if found is None:
            found = self._years[key] = self._build_year(year, region)
        return found

    def _build_year(self, year: int, region: str | None) -> _Year:
        published = year in self._national
        national = self.national_schedule(year)
        off, on = national.holiday_dates, national.workday_dates
        regional = self._regional.get((region, year)) if region is not None else None
        if regional is not None:
            off = (off - regional.workday_dates) | regional.holiday_dates
            on = (on - regional.holiday_dates) | regional.workday_dates
        elif region in self._regions:
            published = False  # the region publishes its own days, just not for this year yet
        return _Year(off, on, published)


def _newest(schedules: tuple[Schedule, ...]) -> list[Schedule]:
    """Per (region, year), the schedule with the latest ``effective_from``; a tie for latest is refused."""
    groups: dict[tuple[str | None, int], list[Schedule]] = defaultdict(list)
    for s in schedules:
        groups[(s.region, s.year)].append(s)
    winners = []
    for group in groups.values():
        newest = max(group, key=_effective)
        rival = next((s for s in group if _effective(s) == _effective(newest) and s != newest), None)
        if rival is not None:
            where = f"{newest.year} 年" + (f"（{newest.region}）" if newest.region else "")
            raise InvalidRequestError(
                f"{where}有两份生效日期相同（{newest.effective_from}）但内容不同的安排："
                f"{newest.version} 与 {rival.version}",
                code=CONFLICT,
                location=Location(file=rival.source or None),
            )
        winners.append(newest)
    return winners


def _effective(s: Schedule) -> _dt.date:
    return s.effective_from or _dt.date.min


def _check_day(d: Any, name: str) -> None:
    # datetime is a date subclass, but which day it is depends on the time zone; callers must decide.
    if isinstance(d, _dt.datetime) or not isinstance(d, _dt.date):
        message = f"{name}: 应为日期（date），收到 {type(d).__name__}；时间点请先换算为北京时间再取日期"
        raise InvalidRequestError(message, code=ARGUMENT_INVALID)


def _check_count(n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidRequestError(f"n: 天数应为非负整数，收到 {n!r}", code=ARGUMENT_INVALID)


def _shift(d: _dt.date, n: int) -> _dt.date:
    try:
        return d + _dt.timedelta(days=n)
    except OverflowError:
        raise InvalidRequestError("日期超出可计算的范围", code=ARGUMENT_INVALID) from None
