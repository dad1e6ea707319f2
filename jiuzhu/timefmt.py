"""The one way Jiuzhu shows time: pages, API answers, PDF notices and the ledger.

Two kinds of time, shown differently:

- a **deadline** is a Beijing calendar day. A limit due "by the end of D" is
  stored as the moment it runs out, 00:00 of D+1 in Beijing; that moment
  belongs to D (``engine.sla.clocks.local_date``), so it is shown as D. Showing
  it with a plain ``%Y-%m-%d`` of the moment would say D+1.
- a **moment** (an event, a start) is shown to the minute in Beijing time.

Every page filter, API field and export goes through these functions, so a
case shows one date everywhere.
"""

from __future__ import annotations

from datetime import date, datetime

from engine.clock import SHANGHAI
from engine.sla.clocks import local_date

NONE = "—"


def deadline_day(due: datetime | date | None) -> date | None:
    """The Beijing calendar day a deadline falls on (24:00 of D is D)."""
    if due is None:
        return None
    if isinstance(due, datetime):
        return local_date(due)
    return due


def deadline(due: datetime | date | str | None) -> str:
    """A deadline as ``YYYY-MM-DD``: the day it runs out, Beijing time."""
    if isinstance(due, str):
        due = _parse(due)
    day = deadline_day(due)
    return day.isoformat() if day else NONE


def day_of(moment: datetime) -> date:
    """The Beijing calendar day a moment falls on (00:00 starts a day)."""
    return moment.astimezone(SHANGHAI).date()


def day(moment: datetime | date | str | None) -> str:
    """The Beijing calendar day of a moment (00:00 is the day it starts), ``YYYY-MM-DD``."""
    if isinstance(moment, str):
        moment = _parse(moment)
    if moment is None:
        return NONE
    if isinstance(moment, datetime):
        return day_of(moment).isoformat()
    return moment.isoformat()


def moment(value: datetime | str | None, *, seconds: bool = False) -> str:
    """A moment as ``YYYY-MM-DD HH:MM`` (``:SS`` when a retry queue needs it), Beijing time."""
    if isinstance(value, str):
        parsed = _parse(value)
        value = parsed if isinstance(parsed, datetime) else None
    if value is None:
        return NONE
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def due_moment(value: datetime | str | None) -> str:
    """When a timer runs out: a Beijing midnight is 24:00 of the day before, so a
    公示 due on D reads "D 24:00" next to the deadline D, never "D+1 00:00"."""
    if isinstance(value, str):
        parsed = _parse(value)
        value = parsed if isinstance(parsed, datetime) else None
    if value is None:
        return NONE
    local = value.astimezone(SHANGHAI)
    if local.time() == datetime.min.time():
        return f"{local_date(value).isoformat()} 24:00"
    return moment(value)


def chinese_day(value: date) -> str:
    """A date in a formal notice: 2026年3月2日."""
    return f"{value.year}年{value.month}月{value.day}日"


def days_left_text(days: int | None, unit: str) -> str:
    """How long is left, in the clock's own unit (a 公示 counts natural days)."""
    if days is None:
        return NONE
    word = "个工作日" if unit == "working_days" else "天"
    return f"已超期 {-days}{word}" if days < 0 else f"{days}{word}"


def _parse(text: str) -> datetime | date | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:
        return parsed.date()
    return parsed if parsed.tzinfo else None
