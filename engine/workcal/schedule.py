"""Holiday schedules: one year of 放假 and 调休 dates, and their JSON file format.

Schedule file format
====================

UTF-8 JSON, one file per year and region (``calendars/cn-2027.example.json`` is a sample)::

    {
      "year": 2027,
      "version": "国办发明电〔2026〕X号",
      "effective_from": "2026-11-10",
      "holidays": [{"name": "春节", "dates": ["2027-02-06", "2027-02-07"]}],
      "workdays": [{"name": "春节调休", "dates": ["2027-02-20"]}],
      "region": null
    }

- ``year``: the calendar year; every date in the file must fall in it.
- ``version``: label of the source (the notice's 文号); it shows up in every result's ``calendar_version``.
- ``effective_from``: the day the notice was published. The newest ``effective_from`` wins when two
  files cover the same year and region.
- ``holidays``: days off, in named blocks. List every day of the block, weekend days included.
- ``workdays``: 调休 make-up days, which are weekend days that are worked. A weekday is worked anyway,
  so listing one is an error.
- ``region``: ``null`` for the national schedule, or a region name such as ``"新疆"`` for a region's
  extra days. Those apply only when that region is asked for. May be omitted.

``load_schedule`` refuses a file with error code ``CALENDAR_FILE_INVALID``. ``Location.field`` and the
message prefix name the spot, e.g. ``holidays[0].dates[2]: 日期格式应为 YYYY-MM-DD``. It reports every
problem it finds, not just the first. Refused: unknown keys, missing keys, bad date formats, a date
outside ``year``, the same date twice, a date that is both holiday and workday, and a make-up workday
on Monday to Friday.

A loaded schedule replaces its whole year: a national 2026 file supersedes the chinese_calendar seed
for 2026, so it must list all of 2026. Notices sometimes change days in the previous December. For
example, the 2019 notice made Saturday 2018-12-29 a working day. To load such a change, make a new
version of the previous year: ``dump_schedule`` its current schedule, edit it, and raise ``version``
and ``effective_from``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from engine.errors import InvalidRequestError, Location, Problem

FILE_INVALID = "CALENDAR_FILE_INVALID"
ARGUMENT_INVALID = "CALENDAR_ARGUMENT_INVALID"
_TOP_KEYS = ("year", "version", "effective_from", "holidays", "workdays", "region")
_OPTIONAL_KEYS = frozenset({"region"})
_BLOCK_KEYS = ("name", "dates")
# date.fromisoformat in 3.11 also takes "20270101" and week dates; the file format promises one spelling.
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEKDAY_CN = "一二三四五六日"


@dataclass(frozen=True)
class DayBlock:
    """A named run of dates, e.g. 春节 or 春节调休."""

    name: str
    dates: tuple[date, ...]


@dataclass(frozen=True)
class Schedule:
    """One year's days off and make-up working days, nationally or for one region."""

    year: int
    version: str
    effective_from: date | None  # None only for the chinese_calendar seed and the fallback
    holidays: tuple[DayBlock, ...] = ()
    workdays: tuple[DayBlock, ...] = ()
    region: str | None = None
    source: str = field(default="", compare=False)  # where it came from, for error messages only

    @cached_property
    def holiday_dates(self) -> frozenset[date]:
        return frozenset(d for block in self.holidays for d in block.dates)

    @cached_property
    def workday_dates(self) -> frozenset[date]:
        return frozenset(d for block in self.workdays for d in block.dates)


class CalendarFileInvalid(InvalidRequestError):
    """A schedule file was refused; ``problems()`` lists every located finding."""

    default_code = FILE_INVALID

    def __init__(self, errors: list[Problem]) -> None:
        more = f"（另有 {len(errors) - 1} 处错误）" if len(errors) > 1 else ""
        super().__init__(errors[0].message + more, location=errors[0].location)
        self.errors = errors

    def problems(self) -> list[Problem]:
        return list(self.errors)


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; in a holiday file that silently drops data.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def load_schedule(text: str, *, source: str) -> Schedule:
    """Parse and validate a schedule file; ``source`` (e.g. the file path) goes into error locations."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        message = f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}"
        raise CalendarFileInvalid([Problem(FILE_INVALID, message, Location(file=source, line=exc.lineno))]) from None
    except _DuplicateKey as exc:
        message = f"{exc.args[0]}: JSON 对象中有重复的键"
        raise CalendarFileInvalid([Problem(FILE_INVALID, message, Location(file=source, field=exc.args[0]))]) from None
    return schedule_from_dict(data, source=source)


def dump_schedule(schedule: Schedule) -> str:
    """The file text for ``schedule``; ``load_schedule(dump_schedule(s), ...) == s``."""
    return json.dumps(schedule_to_dict(schedule), ensure_ascii=False, indent=2) + "\n"


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    def blocks(items: tuple[DayBlock, ...]) -> list[dict[str, Any]]:
        return [{"name": b.name, "dates": [d.isoformat() for d in b.dates]} for b in items]

    return {
        "year": schedule.year,
        "version": schedule.version,
        "effective_from": schedule.effective_from.isoformat() if schedule.effective_from else None,
        "holidays": blocks(schedule.holidays),
        "workdays": blocks(schedule.workdays),
        "region": schedule.region,
    }


def schedule_from_dict(data: Any, *, source: str) -> Schedule:
    """Validate already-parsed file content (e.g. a database row) into a :class:`Schedule`."""
    return _Checker(source).schedule(data)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[Problem] = []
        self.seen: dict[date, str] = {}  # date -> path where it first appeared

    def fail(self, path: str, message: str) -> None:
        text = f"{path}: {message}" if path else message
        self.errors.append(Problem(FILE_INVALID, text, Location(file=self.source, field=path or None)))

    def schedule(self, data: Any) -> Schedule:
        if not isinstance(data, dict):
            self.fail("", "顶层应为 JSON 对象")
            raise CalendarFileInvalid(self.errors)
        for key in data:
            if key not in _TOP_KEYS:
                self.fail(key, f"未知字段（允许的字段：{', '.join(_TOP_KEYS)}）")
        for key in _TOP_KEYS:
            if key not in data and key not in _OPTIONAL_KEYS:
                self.fail(key, "缺少必填字段")
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2100:
            if "year" in data:
                self.fail("year", "应为 1900 至 2100 之间的整数")
            year = None
        version = data.get("version")
        if "version" in data and not (isinstance(version, str) and version.strip()):
            self.fail("version", "应为非空字符串")
        effective_from = self.parse_date("effective_from", data["effective_from"]) if "effective_from" in data else None
        region = data.get("region")
        if region is not None and not (isinstance(region, str) and region.strip()):
            self.fail("region", "应为 null 或非空字符串（地区名称）")
        holidays = self.blocks("holidays", data.get("holidays", []), year, make_up=False)
        workdays = self.blocks("workdays", data.get("workdays", []), year, make_up=True)
        if self.errors:
            raise CalendarFileInvalid(self.errors)
        assert year is not None and isinstance(version, str)  # every other case was reported above
        return Schedule(
            year=year,
            version=version.strip(),
            effective_from=effective_from,
            holidays=holidays,
            workdays=workdays,
            region=region.strip() if isinstance(region, str) else None,
            source=self.source,
        )

    def parse_date(self, path: str, raw: Any) -> date | None:
        if isinstance(raw, str) and _DATE_RE.fullmatch(raw):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                self.fail(path, f"日期 {raw} 不存在")
                return None
        self.fail(path, "日期格式应为 YYYY-MM-DD")
        return None

    def blocks(self, key: str, raw: Any, year: int | None, *, make_up: bool) -> tuple[DayBlock, ...]:
        if not isinstance(raw, list):
            self.fail(key, "应为数组")
            return ()
        out: list[DayBlock] = []
        for i, item in enumerate(raw):
            path = f"{key}[{i}]"
            if not isinstance(item, dict):
                self.fail(path, "应为含 name 和 dates 的对象")
                continue
            for k in item:
                if k not in _BLOCK_KEYS:
                    self.fail(f"{path}.{k}", "未知字段（允许的字段：name, dates）")
            name = item.get("name")
            if not (isinstance(name, str) and name.strip()):
                self.fail(f"{path}.name", "应为非空字符串（如 春节）")
                name = ""
            dates = item.get("dates")
            if not (isinstance(dates, list) and dates):
                self.fail(f"{path}.dates", "应为非空的日期数组")
                continue
            good = [d for j, r in enumerate(dates) if (d := self.one_date(f"{path}.dates[{j}]", r, year, make_up))]
            out.append(DayBlock(name.strip(), tuple(good)))
        return tuple(out)

    def one_date(self, path: str, raw: Any, year: int | None, make_up: bool) -> date | None:
        d = self.parse_date(path, raw)
        if d is None:
            return None
        if year is not None and d.year != year:
            self.fail(path, f"日期 {d} 不在 {year} 年内")
            return None
        first = self.seen.get(d)
        if first is not None:
            if first.split("[", 1)[0] == path.split("[", 1)[0]:
                self.fail(path, f"日期 {d} 重复（已出现在 {first}）")
            else:
                self.fail(path, f"日期 {d} 不能既是放假日又是调休上班日（另见 {first}）")
            return None
        self.seen[d] = path
        if make_up and d.weekday() < 5:
            self.fail(path, f"调休上班日应为周六或周日，{d} 是星期{_WEEKDAY_CN[d.weekday()]}")
            return None
        return d
