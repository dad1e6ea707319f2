"""Working-day calendar: chinese_calendar seed, fallback years, loaded schedules, regions, file format."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import chinese_calendar
import pytest

from engine.errors import InvalidRequestError
from engine.workcal.calendar import PeriodKind, WorkCalendar
from engine.workcal.schedule import CalendarFileInvalid, dump_schedule, load_schedule, schedule_from_dict
from engine.workcal.view import schedule_for_year
from tests.conftest import ROOT

D = date.fromisoformat
EXAMPLE = ROOT / "calendars" / "cn-2027.example.json"

# Fictional: a January 春节 so that a 30-working-day deadline from mid-December moves.
FIXTURE_2027: dict[str, Any] = {
    "year": 2027,
    "version": "测试-2027-v1",
    "effective_from": "2026-11-10",
    "holidays": [
        {"name": "元旦", "dates": ["2027-01-01", "2027-01-02", "2027-01-03"]},
        {"name": "春节", "dates": [f"2027-01-{d}" for d in range(18, 25)]},
    ],
    "workdays": [{"name": "春节调休", "dates": ["2027-01-16"]}],
    "region": None,
}

XINJIANG_2026: dict[str, Any] = {
    "year": 2026,
    "version": "测试-新疆-2026",
    "effective_from": "2026-01-05",
    "holidays": [{"name": "古尔邦节", "dates": ["2026-05-27"]}],
    "workdays": [],
    "region": "新疆",
}


def load(data: dict[str, Any], source: str = "test.json") -> Any:
    return load_schedule(json.dumps(data, ensure_ascii=False), source=source)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


# --- 2026 as published (国办 notice of 2025-11-04) -------------------------------------------------


def test_library_matches_the_2026_notice(cal: WorkCalendar) -> None:
    off = [D("2026-02-15") + timedelta(days=i) for i in range(9)] + [D(f"2026-10-0{i}") for i in range(1, 8)]
    assert not any(cal.is_working_day(d) for d in off)
    for made_up in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"):
        assert cal.is_working_day(D(made_up)), made_up
    assert cal.working_days_between(D("2024-12-31"), D("2025-12-31")) == 248
    assert cal.working_days_between(D("2025-12-31"), D("2026-12-31")) == 248


def test_every_seeded_day_agrees_with_is_workday(cal: WorkCalendar) -> None:
    d = D("2004-01-01")
    while d <= D("2026-12-31"):
        assert cal.is_working_day(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-02-13", 1, "2026-02-14"),  # a make-up Saturday counts
        ("2026-02-14", 1, "2026-02-24"),
        ("2026-02-27", 1, "2026-02-28"),
        ("2026-09-19", 1, "2026-09-20"),  # make-up Sunday before 国庆
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-10-09", 1, "2026-10-10"),
        # late-September deadlines across 中秋 (9/25–27) and 国庆 (10/1–7)
        ("2026-09-21", 15, "2026-10-19"),
        ("2026-09-21", 20, "2026-10-26"),
        ("2026-09-21", 30, "2026-11-09"),
        ("2026-09-25", 15, "2026-10-22"),
        ("2026-09-25", 20, "2026-10-29"),
        ("2026-09-28", 30, "2026-11-13"),
        ("2026-02-14", 0, "2026-02-14"),  # n == 0: the start itself when it is a working day ...
        ("2026-02-15", 0, "2026-02-24"),  # ... otherwise the next working day
    ],
)
def test_add_working_days(cal: WorkCalendar, start: str, n: int, expected: str) -> None:
    result = cal.add_working_days(D(start), n)
    assert result.date == D(expected)
    assert result.provisional is False
    assert result.calendar_version == cal.version()


# --- the two chinese_calendar quirks of assistance-rules.md §4.2 ----------------------------------------


def test_start_on_a_holiday_is_not_counted(cal: WorkCalendar) -> None:
    # find_workday(1, 2026-02-15) answers 02-25: it counts from the holiday as if it were day 0 worked.
    assert cal.add_working_days(D("2026-02-15"), 1).date == D("2026-02-24")
    assert cal.add_working_days(D("2026-10-01"), 1).date == D("2026-10-08")
    assert cal.add_working_days(D("2026-10-04"), 2).date == D("2026-10-09")


def test_make_up_weekend_days_are_counted(cal: WorkCalendar) -> None:
    # get_workdays(..., include_weekends=False) leaves out 02-14 and 02-28 and gives 14.
    feb = [D("2026-02-01") + timedelta(days=i) for i in range(28)]
    assert cal.working_days_between(D("2026-01-31"), D("2026-02-28")) == 16
    assert sum(chinese_calendar.is_workday(d) for d in feb) == 16


def test_no_chinese_calendar_calls_per_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = WorkCalendar()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("chinese_calendar helper called")

    for name in ("is_workday", "is_holiday", "find_workday", "get_workdays", "get_holiday_detail"):
        monkeypatch.setattr(chinese_calendar, name, refuse)
    assert fresh.add_working_days(D("2026-09-21"), 30).date == D("2026-11-09")
    assert fresh.working_days_between(D("2026-01-01"), D("2026-12-31")) == 248


# --- consistency ---------------------------------------------------------------------------------------


def test_between_is_the_inverse_of_add(cal: WorkCalendar) -> None:
    start = D("2025-09-01")
    for i in range(480):  # into 2027, so fallback days are covered too
        s = start + timedelta(days=i)
        for n in (1, 2, 3, 5, 10, 15, 20, 30):
            end = cal.add_working_days(s, n).date
            assert cal.is_working_day(end)
            assert cal.working_days_between(s, end) == n, (s, n)
            assert cal.working_days_between(s, end - timedelta(days=1)) == n - 1, (s, n)
            assert cal.working_days_between(end, s) == -n
        zero = cal.add_working_days(s, 0).date
        if cal.is_working_day(s):
            assert zero == s
        else:
            assert cal.working_days_between(s, zero) == 1
    assert cal.working_days_between(start, start) == 0


# --- natural-day periods (公示 7 天) ------------------------------------------------------------------


def test_natural_days_roll_off_a_sunday(cal: WorkCalendar) -> None:
    assert cal.add_natural_days(D("2026-03-01"), 7).date == D("2026-03-09")
    assert cal.add_natural_days(D("2026-03-01"), 7, roll_to_working_day=False).date == D("2026-03-08")
    assert cal.add_natural_days(D("2026-03-02"), 7).date == D("2026-03-09")


def test_natural_days_ending_in_guoqing_roll_to_1008(cal: WorkCalendar) -> None:
    assert cal.add_natural_days(D("2026-09-27"), 7).date == D("2026-10-08")
    assert cal.add_natural_days(D("2026-09-27"), 7, roll_to_working_day=False).date == D("2026-10-04")


def test_natural_days_into_an_unpublished_year(cal: WorkCalendar) -> None:
    rolled = cal.add_natural_days(D("2026-12-25"), 7)  # 2027-01-01 is 元旦 in every fallback
    assert (rolled.date, rolled.provisional) == (D("2027-01-04"), True)
    plain = cal.add_natural_days(D("2026-12-25"), 7, roll_to_working_day=False)
    assert (plain.date, plain.provisional) == (D("2027-01-01"), False)


# --- unpublished years: fallback, provisional, recompute -------------------------------------------------


def test_fallback_year_is_provisional_until_loaded(cal: WorkCalendar) -> None:
    before = cal.deadline(D("2026-12-15"), 30, PeriodKind.WORKING_DAYS)
    assert (before.date, before.provisional) == (D("2027-01-27"), True)
    assert cal.add_working_days(D("2026-12-15"), 5).provisional is False  # never left 2026

    loaded = cal.with_schedules(load(FIXTURE_2027))
    after = loaded.deadline(D("2026-12-15"), 30, "working_days")
    assert (after.date, after.provisional) == (D("2027-02-02"), False)
    assert after.calendar_version != before.calendar_version
    assert "2027@测试-2027-v1" in after.calendar_version
    assert cal.add_working_days(D("2026-12-15"), 30) == before  # the old calendar is unchanged


def test_fallback_knows_the_statutory_days_but_not_the_swaps(cal: WorkCalendar) -> None:
    # 2027: 劳动节 May 1–2 is a weekend, made up on Monday and Tuesday; 春节 from 除夕 Feb 5 (more in test_fallback.py)
    for day in ("2027-01-01", "2027-05-03", "2027-05-04", "2027-10-01", "2027-02-05", "2027-02-08"):
        assert not cal.is_working_day(D(day)), day
    assert cal.is_working_day(D("2027-05-05"))
    view = schedule_for_year(cal, 2027)
    assert not view.published and view.unknown == ("调休安排",)
    assert view.to_dict()["status"] == "provisional"


def test_loaded_schedule_overrides_the_seed() -> None:
    base = load({**FIXTURE_2027, "year": 2026, "holidays": [], "workdays": [], "effective_from": "2026-01-01"})
    newer = load({**FIXTURE_2027, "year": 2026, "version": "v2", "holidays": [], "workdays": []})
    cal = WorkCalendar([newer, base])
    assert cal.is_working_day(D("2026-10-05"))  # 国庆 gone: the whole year was replaced
    assert cal.national_schedule(2026).version == "v2"  # later effective_from wins, whatever the order
    with pytest.raises(InvalidRequestError) as info:
        WorkCalendar([newer, load({**FIXTURE_2027, "year": 2026, "version": "v3", "holidays": [], "workdays": []})])
    assert info.value.code == "CALENDAR_CONFLICT"


# --- regions ---------------------------------------------------------------------------------------------


def test_region_extra_holiday_moves_only_that_region() -> None:
    cal = WorkCalendar([load(XINJIANG_2026)])
    assert cal.add_working_days(D("2026-05-20"), 10).date == D("2026-06-03")
    assert cal.add_working_days(D("2026-05-20"), 10, region="宁夏").date == D("2026-06-03")
    xj = cal.add_working_days(D("2026-05-20"), 10, region="新疆")
    assert (xj.date, xj.provisional) == (D("2026-06-04"), False)
    assert xj.calendar_version == cal.version("新疆") != cal.version()
    assert cal.version("宁夏") == cal.version() == WorkCalendar().version()


def test_region_without_a_schedule_for_the_year_is_provisional() -> None:
    cal = WorkCalendar([load(XINJIANG_2026)])
    assert cal.add_working_days(D("2025-05-20"), 10, region="新疆").provisional is True
    assert cal.add_working_days(D("2025-05-20"), 10).provisional is False


def test_schedule_view_for_a_published_year(cal: WorkCalendar) -> None:
    view = schedule_for_year(cal, 2026)
    assert view.published and view.unknown == () and view.working_days == 248
    spring = next(b for b in view.national.holidays if b.name == "春节")
    assert spring.dates == tuple(D("2026-02-15") + timedelta(days=i) for i in range(9))
    assert next(b for b in view.national.workdays if b.name == "春节调休").dates == (D("2026-02-14"), D("2026-02-28"))
    assert schedule_for_year(cal.with_schedules(load(FIXTURE_2027)), 2027).published


# --- arguments -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["datetime", "negative", "bool", "kind"])
def test_bad_arguments_are_refused(cal: WorkCalendar, call: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        if call == "datetime":
            cal.add_working_days(datetime(2026, 3, 2, 9), 1)
        elif call == "negative":
            cal.add_natural_days(D("2026-03-02"), -1)
        elif call == "bool":
            cal.add_working_days(D("2026-03-02"), True)
        else:
            cal.deadline(D("2026-03-02"), 1, "hours")
    assert info.value.code == "CALENDAR_ARGUMENT_INVALID"


# --- schedule files --------------------------------------------------------------------------------------


def test_example_file_loads_and_round_trips() -> None:
    example = load_schedule(EXAMPLE.read_text(encoding="utf-8"), source=str(EXAMPLE))
    assert example.year == 2027 and example.region is None
    assert load_schedule(dump_schedule(example), source="dump") == example
    seed_2026 = WorkCalendar().national_schedule(2026)
    assert json.loads(dump_schedule(seed_2026))["effective_from"] is None


def _broken(**changes: Any) -> dict[str, Any]:
    return {**FIXTURE_2027, **changes}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            _broken(holidays=[{"name": "春节", "dates": ["2027-01-18", "2027-01-19", "2027/01/20"]}]),
            "holidays[0].dates[2]",
            "日期格式应为 YYYY-MM-DD",
        ),
        (_broken(holidays=[{"name": "元旦", "dates": ["2026-12-31"]}]), "holidays[0].dates[0]", "不在 2027 年内"),
        (
            _broken(workdays=[{"name": "元旦调休", "dates": ["2027-01-02"]}]),
            "workdays[0].dates[0]",
            "既是放假日又是调休上班日",
        ),
        (_broken(workdays=[{"name": "春节调休", "dates": ["2027-01-13"]}]), "workdays[0].dates[0]", "是星期三"),
        (
            _broken(holidays=[{"name": "元旦", "dates": ["2027-01-01"]}, {"name": "又一个", "dates": ["2027-01-01"]}]),
            "holidays[1].dates[0]",
            "重复",
        ),
        (_broken(colour="red"), "colour", "未知字段"),
        (_broken(holidays=[{"name": "元旦", "dates": ["2027-01-01"], "note": "x"}]), "holidays[0].note", "未知字段"),
        (_broken(year="2027"), "year", "整数"),
        (_broken(effective_from="10/11/2026"), "effective_from", "日期格式"),
        (_broken(holidays=[{"name": "元旦", "dates": ["2027-02-30"]}]), "holidays[0].dates[0]", "不存在"),
        (_broken(holidays=[{"name": "", "dates": ["2027-01-01"]}]), "holidays[0].name", "非空"),
        ({k: v for k, v in FIXTURE_2027.items() if k != "version"}, "version", "缺少必填字段"),
    ],
)
def test_schedule_file_errors_are_located(data: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(CalendarFileInvalid) as info:
        load(data, source="calendars/cn-2027.json")
    err = info.value
    assert err.code == "CALENDAR_FILE_INVALID"
    assert err.location.field == field and err.location.file == "calendars/cn-2027.json"
    assert err.message.startswith(f"{field}: ") and words in err.message


def test_every_problem_is_reported_and_json_errors_have_a_line() -> None:
    with pytest.raises(CalendarFileInvalid) as info:
        schedule_from_dict(_broken(region=5, holidays="none"), source="x.json")
    assert [p.location.field for p in info.value.problems()] == ["region", "holidays"]
    assert "另有 1 处错误" in info.value.message
    with pytest.raises(CalendarFileInvalid) as info:
        load_schedule('{\n  "year": 2027,\n  "year": 2028\n}', source="dup.json")
    assert info.value.location.field == "year"
    with pytest.raises(CalendarFileInvalid) as info:
        load_schedule('{\n  "year": 2027,\n}', source="bad.json")
    assert info.value.location.line == 3 and "JSON 格式错误" in info.value.message
