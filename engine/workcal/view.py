"""The year overview behind ``jiuzhu calendar show YEAR [--region R]``."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from engine.errors import InvalidRequestError
from engine.workcal.calendar import WorkCalendar
from engine.workcal.fallback import FALLBACK_UNKNOWN
from engine.workcal.schedule import ARGUMENT_INVALID, Schedule, schedule_to_dict


@dataclass(frozen=True)
class ScheduleView:
    """What ``jiuzhu calendar show YEAR`` prints."""

    year: int
    region: str | None
    published: bool
    national: Schedule
    regional: Schedule | None
    unknown: tuple[str, ...]  # holidays not yet known; empty once published
    working_days: int
    calendar_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "region": self.region,
            "status": "published" if self.published else "provisional",
            "national": schedule_to_dict(self.national),
            "regional": schedule_to_dict(self.regional) if self.regional else None,
            "unknown": list(self.unknown),
            "working_days": self.working_days,
            "calendar_version": self.calendar_version,
        }


def schedule_for_year(calendar: WorkCalendar, year: int, *, region: str | None = None) -> ScheduleView:
    if not 1900 <= year <= 2100:
        raise InvalidRequestError(f"year: 年份应在 1900 至 2100 之间，收到 {year}", code=ARGUMENT_INVALID)
    published = calendar.is_published(year, region=region)
    national_known = calendar.is_published(year)
    return ScheduleView(
        year=year,
        region=region,
        published=published,
        national=calendar.national_schedule(year),
        regional=calendar.regional_schedule(region, year) if region else None,
        unknown=() if national_known else FALLBACK_UNKNOWN,
        working_days=calendar.working_days_between(_dt.date(year - 1, 12, 31), _dt.date(year, 12, 31), region=region),
        calendar_version=calendar.version(region),
    )
