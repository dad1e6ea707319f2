"""The bounded ISO-8601 timer reader: what it accepts, and where the limits fall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.timebounds import Cycle, Duration, TimeLimits, TimerValueError, checked, parse_cycle, parse_datetime

LIMITS = TimeLimits()


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("PT5M", (("minutes", 5),)),
        ("P1Y2M3DT4H5M6S", (("years", 1), ("months", 2), ("days", 3), ("hours", 4), ("minutes", 5), ("seconds", 6))),
        ("P2W", (("weeks", 2),)),
        ("pt1,5h", (("hours", 1.5),)),  # SpiffWorkflow reads lower case and decimal commas too
        ("P10Y", (("years", 10),)),
        ("P120M", (("months", 120),)),
    ],
)
def test_durations_within_the_limits(text: str, parts: tuple[tuple[str, float], ...]) -> None:
    duration = checked("timeDuration", text, LIMITS)
    assert isinstance(duration, Duration) and duration.parts == parts


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        ("timeDuration", "P99999999Y", "TIMER_OUT_OF_RANGE"),
        ("timeDuration", "P8500Y", "TIMER_OUT_OF_RANGE"),
        ("timeDuration", "P3653D", "TIMER_OUT_OF_RANGE"),  # a day past 10 mean years
        ("timeDuration", "P" + "9" * 13 + "D", "TIMER_INVALID"),  # more digits than any real figure
        ("timeDuration", "PT", "TIMER_INVALID"),
        ("timeDuration", "P1.5Y2M", "TIMER_INVALID"),
        ("timeDuration", "P1W2D", "TIMER_INVALID"),
        ("timeDuration", 5, "TIMER_INVALID"),
        ("timeDuration", "", "TIMER_INVALID"),
        ("timeDate", "2101-01-01T00:00:00+08:00", "TIMER_OUT_OF_RANGE"),
        ("timeDate", "1899-12-31T23:59:59Z", "TIMER_OUT_OF_RANGE"),
        ("timeDate", "2026-02-30T00:00:00Z", "TIMER_INVALID"),
        ("timeDate", "PT5M", "TIMER_INVALID"),
        ("timeCycle", "R1001/PT1M", "TIMER_OUT_OF_RANGE"),
        ("timeCycle", "R2/PT59S", "TIMER_OUT_OF_RANGE"),
        ("timeCycle", "R/PT0S", "TIMER_OUT_OF_RANGE"),
        ("timeCycle", "R3/P11Y", "TIMER_OUT_OF_RANGE"),
        ("timeCycle", "R3/3000-01-01T00:00:00Z/PT1H", "TIMER_OUT_OF_RANGE"),
        ("timeCycle", "R3/PT1H/PT2H", "TIMER_INVALID"),
        ("timeCycle", "R-1/PT1H", "TIMER_INVALID"),
        ("timeCycle", "PT1H", "TIMER_INVALID"),
    ],
)
def test_values_refused_with_a_stable_code(kind: str, value: object, code: str) -> None:
    with pytest.raises(TimerValueError) as refused:
        checked(kind, value, LIMITS)
    assert refused.value.code == code and refused.value.message


def test_dates_keep_their_offset_and_naive_stays_naive() -> None:
    assert parse_datetime("2027-01-01T09:00:00+08:00") == datetime(2027, 1, 1, 1, tzinfo=UTC)
    assert parse_datetime("2027-01-01T09:00+0800").utcoffset() == timedelta(hours=8)
    assert parse_datetime("2027-01-01T01:00Z") == datetime(2027, 1, 1, 1, tzinfo=UTC)
    assert parse_datetime("2026-W45-1T09:00+08:00") == datetime(2026, 11, 2, 9, tzinfo=timezone(timedelta(hours=8)))
    assert parse_datetime("2027-01-01").tzinfo is None


def test_cycles_in_their_three_forms() -> None:
    assert parse_cycle("R/PT1H") == Cycle("R/PT1H", None, Duration("PT1H", (("hours", 1),)))
    start = parse_cycle("R3/2027-01-01T09:00:00+08:00/PT10M")
    assert start.repetitions == 3 and start.start is not None and start.end is None
    end = parse_cycle("R3/PT10M/2027-01-01T09:00:00+08:00")
    assert end.end is not None and end.start is None
    assert checked("timeCycle", "R1000/PT1M", LIMITS) == parse_cycle("R1000/PT1M")


def test_limits_are_parameters() -> None:
    tight = TimeLimits(max_duration_years=1, earliest_year=2020, latest_year=2030, max_repetitions=5)
    with pytest.raises(TimerValueError):
        checked("timeDuration", "P13M", tight)
    with pytest.raises(TimerValueError):
        checked("timeCycle", "R6/PT1H", tight)
    with pytest.raises(TimerValueError):
        checked("timeDate", "2031-01-01T00:00:00Z", tight)
    assert checked("timeDuration", "P12M", tight)
