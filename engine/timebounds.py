"""Our own bounded reading of ISO-8601 timer values, before SpiffWorkflow sees them.

SpiffWorkflow 3.2.0 turns a duration into days by looping once per month
(``get_timedelta_from_start``), so ``P99999999Y`` holds the step's
transaction for hours, and a cycle like ``R99999/PT0S`` fires every
repetition in one sweep. Every timer value — a literal at deploy, the value
of an expression when the timer arms — is parsed here first, with a strict
grammar and bounded work, and checked against :class:`TimeLimits`. Only a
value that passes goes on to SpiffWorkflow's own arithmetic, which is then
bounded too (at most ``12 × max_duration_years`` months).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from engine.errors import InvalidRequestError, Location

KINDS = {"timeDate": "日期时间", "timeDuration": "时长", "timeCycle": "循环周期"}
MAX_TEXT = 120  # no legitimate timer value is longer
_DAY = 86400.0
_YEAR_DAYS = 365.2425  # the Gregorian mean year: P10Y and P120M are both exactly 10 years
_MONTH_DAYS = _YEAR_DAYS / 12
_SECONDS = {
    "years": _YEAR_DAYS * _DAY,
    "months": _MONTH_DAYS * _DAY,
    "weeks": 7 * _DAY,
    "days": _DAY,
    "hours": 3600.0,
    "minutes": 60.0,
    "seconds": 1.0,
}
_N = r"\d{1,12}(?:[.,]\d{1,9})?"
_DURATION = re.compile(
    rf"P(?:(?P<years>{_N})Y)?(?:(?P<months>{_N})M)?(?:(?P<weeks>{_N})W)?(?:(?P<days>{_N})D)?"
    rf"(?:(?P<t>T)(?:(?P<hours>{_N})H)?(?:(?P<minutes>{_N})M)?(?:(?P<seconds>{_N})S)?)?",
    re.IGNORECASE,
)
_TIME = r"\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d{1,6})?)?)?"
_OFFSET = r"Z|[+-]\d{2}(?::?\d{2})?"
_DATE = re.compile(rf"(\d{{4}})-(\d{{2}})-(\d{{2}})(?:T(?P<time>{_TIME})(?P<offset>{_OFFSET})?)?", re.IGNORECASE)
_WEEK = re.compile(rf"(\d{{4}})-?W(\d{{2}})-?(\d)(?:T(?P<time>{_TIME})(?P<offset>{_OFFSET})?)?", re.IGNORECASE)
_REPEAT = re.compile(r"R(\d{0,12})", re.IGNORECASE)


@dataclass(frozen=True)
class TimeLimits:
    """How far a timer may reach. The engine takes one; the edge builds it from
    ``JIUZHU_TIMER_*`` settings."""

    max_duration_years: float = 10.0
    earliest_year: int = 1900
    latest_year: int = 2100
    max_repetitions: int = 1000
    min_interval_seconds: float = 60.0


class TimerValueError(InvalidRequestError):
    """A timer value that cannot be read (``TIMER_INVALID``) or reaches too far
    (``TIMER_OUT_OF_RANGE``)."""

    default_code = "TIMER_INVALID"

    def __init__(self, message: str, *, code: str | None = None, location: Location | None = None) -> None:
        super().__init__(message, code=code, location=location)


def _out_of_range(message: str) -> TimerValueError:
    return TimerValueError(message, code="TIMER_OUT_OF_RANGE")


@dataclass(frozen=True)
class Duration:
    text: str
    parts: tuple[tuple[str, int | float], ...]  # (designator, amount) in the order written

    def nominal_seconds(self) -> float:
        """Its length with mean years and months: how it is held to the limits."""
        return sum(_SECONDS[name] * amount for name, amount in self.parts)

    def as_spiff(self) -> dict[str, int | float]:
        """The dict SpiffWorkflow's ``get_timedelta_from_start`` takes (it pops from it)."""
        return dict(self.parts)


@dataclass(frozen=True)
class Cycle:
    text: str
    repetitions: int | None  # None: repeat for as long as the timer waits (``R/…``)
    interval: Duration
    start: datetime | None = None
    end: datetime | None = None


def _text(value: object, kind: str) -> str:
    if not isinstance(value, str):
        raise TimerValueError(f"{KINDS[kind]}必须是 ISO-8601 文本，实际是 {type(value).__name__}")
    text = value.strip()
    if not text:
        raise TimerValueError(f"{KINDS[kind]}为空")
    if len(text) > MAX_TEXT:
        raise TimerValueError(f"{KINDS[kind]}过长（{len(text)} 个字符），不是有效的 ISO-8601 值")
    return text


def _amount(text: str) -> int | float:
    return float(text.replace(",", ".")) if "." in text or "," in text else int(text)


def parse_duration(value: object) -> Duration:
    """An ISO-8601 duration in the subset SpiffWorkflow computes with: weeks alone
    (or with a time part), a fraction only on the last figure."""
    text = _text(value, "timeDuration")
    match = _DURATION.fullmatch(text)
    invalid = TimerValueError(f"「{text}」不是有效的 ISO-8601 时长（如 PT5M、P1D、P1Y2M）")
    if match is None:
        raise invalid
    parts = tuple((name, match.group(name)) for name in _SECONDS if match.group(name) is not None)
    time_parts = [name for name, _ in parts if name in ("hours", "minutes", "seconds")]
    if not parts or bool(match.group("t")) != bool(time_parts):
        raise invalid
    if "weeks" in dict(parts) and any(name in ("years", "months", "days") for name, _ in parts):
        raise TimerValueError(f"时长「{text}」不能把周（W）与年、月、日混用")
    if any(("." in amount or "," in amount) for _, amount in parts[:-1]):
        raise TimerValueError(f"时长「{text}」只有最后一项可以带小数")
    return Duration(text, tuple((name, _amount(amount)) for name, amount in parts))


def _clock(text: str | None) -> time:
    if not text:
        return time()
    digits = text.replace(":", "")
    fraction = ""
    for mark in ".,":
        if mark in digits:
            digits, fraction = digits.split(mark, 1)
    if len(digits) not in (2, 4, 6):
        raise ValueError("time of day")
    hour, minute, second = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    return time(hour, minute, second, int((fraction + "000000")[:6]))


def _zone(text: str | None) -> str:
    if not text:
        return ""
    if text.upper() == "Z":
        return "+00:00"
    digits = text[1:].replace(":", "")
    return f"{text[0]}{digits[:2]}:{digits[2:4] or '00'}"


def parse_datetime(value: object) -> datetime:
    """An ISO-8601 calendar or week date, with an optional time and offset;
    naive when no offset is written (the caller decides what that means)."""
    text = _text(value, "timeDate")
    invalid = TimerValueError(f"「{text}」不是有效的 ISO-8601 日期时间（如 2027-01-01T09:00:00+08:00）")
    try:
        if match := _DATE.fullmatch(text):
            day = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        elif match := _WEEK.fullmatch(text):
            day = datetime.fromisocalendar(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        else:
            raise invalid
        moment = datetime.combine(day.date(), _clock(match.group("time")))
        zone = _zone(match.group("offset"))
        return datetime.fromisoformat(moment.isoformat() + zone) if zone else moment
    except ValueError as exc:
        raise invalid from exc


def parse_cycle(value: object) -> Cycle:
    """``R[n]/duration``, ``R[n]/start/duration`` or ``R[n]/duration/end``."""
    text = _text(value, "timeCycle")
    head, *parts = text.replace("--", "/").split("/")
    match = _REPEAT.fullmatch(head)
    if match is None or not 1 <= len(parts) <= 2:
        raise TimerValueError(f"循环周期「{text}」必须形如 R[次数]/时长、R[次数]/开始/时长 或 R[次数]/时长/结束")
    repetitions = int(match.group(1)) if match.group(1) else None
    durations = [p for p in parts if p.upper().startswith("P")]
    if len(durations) != 1:
        raise TimerValueError(f"循环周期「{text}」必须恰好包含一个时长")
    interval = parse_duration(durations[0])
    if len(parts) == 1:
        return Cycle(text, repetitions, interval)
    if parts[0].upper().startswith("P"):
        return Cycle(text, repetitions, interval, end=parse_datetime(parts[1]))
    return Cycle(text, repetitions, interval, start=parse_datetime(parts[0]))


def check_duration(duration: Duration, limits: TimeLimits) -> Duration:
    if duration.nominal_seconds() > limits.max_duration_years * _YEAR_DAYS * _DAY:
        raise _out_of_range(f"时长「{duration.text}」超出上限（最长 {limits.max_duration_years:g} 年）")
    return duration


def check_datetime(moment: datetime, text: str, limits: TimeLimits) -> datetime:
    if not limits.earliest_year <= moment.year <= limits.latest_year:
        raise _out_of_range(f"日期时间「{text}」超出允许范围（{limits.earliest_year}–{limits.latest_year} 年）")
    return moment


def check_cycle(cycle: Cycle, limits: TimeLimits) -> Cycle:
    if cycle.repetitions is not None and cycle.repetitions > limits.max_repetitions:
        raise _out_of_range(
            f"循环周期「{cycle.text}」重复 {cycle.repetitions} 次，超出上限（最多 {limits.max_repetitions} 次）"
        )
    check_duration(cycle.interval, limits)
    if cycle.interval.nominal_seconds() < limits.min_interval_seconds:
        raise _out_of_range(
            f"循环周期「{cycle.text}」的间隔过短（至少 {limits.min_interval_seconds:g} 秒），"
            "否则一次扫描要连续触发很多次"
        )
    for moment in (cycle.start, cycle.end):
        if moment is not None:
            check_datetime(moment, cycle.text, limits)
    return cycle


def checked(kind: str, value: object, limits: TimeLimits) -> Duration | datetime | Cycle:
    """Parse and bound a timer value of ``kind`` (timeDate, timeDuration, timeCycle)."""
    if kind == "timeDuration":
        return check_duration(parse_duration(value), limits)
    if kind == "timeDate":
        text = _text(value, kind)
        if text.upper().startswith("P"):
            raise TimerValueError(f"timeDate 需要日期时间，不能是时长（{text}）")
        return check_datetime(parse_datetime(text), text, limits)
    return check_cycle(parse_cycle(value), limits)
