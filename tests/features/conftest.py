"""Step definitions shared by every feature module in this folder (pytest-bdd finds
steps in a conftest.py as fixtures, for all the modules below it).

These are the steps on time and on the SLA clocks, events, timers and 督办 that
the procedures word alike. Each module supplies its own autouse ``world``
fixture (a :class:`~tests.support.sla_world.World` or a subclass of it) and its
procedure-specific steps; a module's own step wins over one here when both
match the same text (pytest-bdd prefers the definition closest to the test), as
test_yishiyiyi.py does for the per-unit clocks of 一事一议.

How moments and days are written (「2026年3月2日 09:00」, 「3月2日」…) is parsed in
:mod:`tests.support.sla_world` (``parse_moment``, ``parse_day``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from engine.sla.clocks import STATE_LABELS
from tests.support.replay_check import replay_all
from tests.support.sla_world import World, parse_day, parse_moment, restarts, show, show_day

# -- 假如 / 当: time ------------------------------------------------------------------------------


@given(parsers.re(r"今天是 (?P<when>.+)"))
@restarts
def today(world: World, when: str) -> None:
    world.advance_to(parse_moment(when))


@given(parsers.re(r"时间来到 (?P<when>.+)"))
@when(parsers.re(r"时间来到 (?P<when>.+)"))
@restarts
def time_comes(world: World, when: str) -> None:
    world.advance_to(parse_moment(when))


@given(parsers.re(r"又过了 (?P<n>\d+) 个工作日"))
@when(parsers.re(r"又过了 (?P<n>\d+) 个工作日"))
@when(parsers.re(r"(?P<n>\d+) 个工作日后"))
@restarts
def working_days_pass(world: World, n: str) -> None:
    world.advance_to(world.add_working_days(int(n)))


UNITS = {"天": timedelta(days=1), "小时": timedelta(hours=1), "分钟": timedelta(minutes=1), "秒": timedelta(seconds=1)}


@when(parsers.re(r"又过了 (?P<n>\d+) (?P<unit>天|小时|分钟|秒)"))
@restarts
def time_passes(world: World, n: str, unit: str) -> None:
    world.advance_to(world.clock.now() + int(n) * UNITS[unit])


# -- 当: a case started and its forms submitted with given data (what the studio's 试运行 saves) ----------


def _json(docstring: str, what: str) -> dict[str, Any]:
    data = json.loads(docstring)
    assert isinstance(data, dict), f"{what}须为 JSON 对象"
    return data


@when(
    parsers.re(
        r"在区划「(?P<region>[^」]+)」(?:由「(?P<unit>[^」]+)」)?开始「(?P<process_id>[a-z][a-z0-9_]*)」案件，开始数据："
    )
)
@restarts
def started_with(world: World, region: str, unit: str | None, process_id: str, docstring: str) -> None:
    world.start_with(process_id, _json(docstring, "开始数据"), region=region, org_unit=unit)


@when(parsers.re(r"「(?P<actor>[^」]+)」办理「(?P<label>[^」]+)」，提交："))
@restarts
def submitted(world: World, actor: str, label: str, docstring: str) -> None:
    world.complete(world.task_element(label), _json(docstring, "提交的表单"), actor=actor)


# -- 那么: the case -------------------------------------------------------------------------------


@then(parsers.re(r"现在是 (?P<when>.+)"))
@restarts
def now_is(world: World, when: str) -> None:
    assert world.clock.now() == parse_moment(when), f"现在是 {show(world.clock.now())}"


@then(parsers.re(r"本案适用「(?P<policy>[^」]+)」时限政策"))
@restarts
def policy_applies(world: World, policy: str) -> None:
    assert world.policy_id() == policy


@then(parsers.re(r"「(?P<label>[^」]+)」(?P<which>已|仍|尚未)待办"))
@restarts
def task_ready(world: World, label: str, which: str) -> None:
    ready = world.element(label) in world.ready_elements()
    assert ready == (which != "尚未"), f"待办：{world.ready_names()}"


@then(parsers.re(r"流程变量 (?P<name>\w+) 为「(?P<value>[^」]*)」"))
@restarts
def variable_is(world: World, name: str, value: str) -> None:
    assert world.data().get(name) == value, world.data().get(name)


@then(parsers.re(r"案件以「(?P<label>[^」]+)」结束"))
@restarts
def ended_at(world: World, label: str) -> None:
    assert world.status() == "completed", f"{world.status()}，待办：{world.ready_names()}"
    assert world.reached(label), f"案件没有经过「{label}」"


# -- 那么: clocks -----------------------------------------------------------------------------------


@then(parsers.re(r"「(?P<label>[^」]+)」的期限是 (?P<when>.+)"))
@restarts
def deadline_is(world: World, label: str, when: str) -> None:
    expected = parse_day(when)
    actual = world.clock_of(label).clock.due_on
    assert actual == expected, f"「{label}」的期限：应为 {show_day(expected)}，实际 {show_day(actual)}"


@then(parsers.re(r"「(?P<label>[^」]+)」处于「(?P<state>[^」]+)」状态"))
@restarts
def state_is(world: World, label: str, state: str) -> None:
    actual = world.clock_of(label).state
    shown = STATE_LABELS.get(actual, actual)
    assert shown == state or shown.startswith(f"{state}（"), f"「{label}」处于「{shown}」（{actual}）状态"


@then(parsers.re(r"「(?P<label>[^」]+)」尚未开始计时"))
@restarts
def clock_not_started(world: World, label: str) -> None:
    assert world.clocks(label) == [], f"「{label}」已开始计时"


@then(parsers.re(r"「(?P<label>[^」]+)」还剩 (?P<n>\d+) ?(?P<word>个工作日|天)"))
@restarts
def days_left(world: World, label: str, n: str, word: str) -> None:
    status = world.clock_of(label)
    unit = "working_days" if word == "个工作日" else "natural_days"
    assert (status.unit, status.days_left) == (unit, int(n)), f"「{label}」还剩 {status.days_left}（{status.unit}）"


# -- 那么: audit events and timers ------------------------------------------------------------------


@then(parsers.re(r"审计日志中恰好有 (?P<n>\d+) 条(?:关于「(?P<label>[^」]+)」的)?「(?P<type_>[a-z_]+)」事件"))
@restarts
def events_counted(world: World, n: str, label: str | None, type_: str) -> None:
    count_events(world, int(n), label, type_)


@then(parsers.re(r"审计日志中没有(?:关于「(?P<label>[^」]+)」的)?「(?P<type_>[a-z_]+)」事件"))
@restarts
def no_events(world: World, label: str | None, type_: str) -> None:
    count_events(world, 0, label, type_)


def count_events(world: World, n: int, label: str | None, type_: str) -> None:
    """Exactly ``n`` events of ``type_`` (about ``label``); they become ``world.last_events``."""
    world.last_events = world.events(type_, label)
    found = [f"{e.seq}@{show(e.occurred_at)}" for e in world.last_events]
    assert len(world.last_events) == n, f"{type_}{f'（{label}）' if label else ''}：{found}"


@then(parsers.re(r"该事件发生在 (?P<when>.+)"))
@restarts
def event_at(world: World, when: str) -> None:
    assert len(world.last_events) == 1
    assert world.last_events[0].occurred_at == parse_moment(when), show(world.last_events[0].occurred_at)


@then(parsers.re(r"「(?P<label>[^」]+)」定时器恰好触发 (?P<n>\d+) 次，在 (?P<when>.+)"))
@restarts
def timer_fired(world: World, label: str, n: str, when: str) -> None:
    element = world.element(label)
    fired = [e for e in world.events("timer_fired") if e.element_id == element]
    assert [e.occurred_at for e in fired] == [parse_moment(when)] * int(n), [show(e.occurred_at) for e in fired]


@then(parsers.re(r"「(?P<label>[^」]+)」定时器尚未触发"))
@restarts
def timer_not_fired(world: World, label: str) -> None:
    element = world.element(label)
    assert not [e for e in world.events("timer_fired") if e.element_id == element]


# -- 那么: 督办 --------------------------------------------------------------------------------------


@then(parsers.re(r"已就「(?P<label>[^」]+)」向「(?P<role>[^」]+)」发起 (?P<n>\d+) 次督办"))
@restarts
def supervised(world: World, label: str, role: str, n: str) -> None:
    rows = world.overdue_alerts(label)
    assert [r["role"] for r in rows] == [role] * int(n), rows
    due = world.clock_of(label).clock.due_at
    assert all(r["raised_at"] == due.isoformat() for r in rows), (rows, show(due))


@then(parsers.re(r"尚未就「(?P<label>[^」]+)」发起督办"))
@restarts
def not_supervised(world: World, label: str) -> None:
    assert world.overdue_alerts(label) == []


@then("尚未发起任何督办")
@restarts
def no_overdue_alert(world: World) -> None:
    assert world.overdue_alerts() == []


# -- every scenario's instances re-execute to the same record (engine.replay) -----------------------


def pytest_bdd_after_scenario(request: pytest.FixtureRequest, feature: object, scenario: object) -> None:
    world = request.getfixturevalue("world")
    if isinstance(world, World) and not world.engines.restart:
        replay_all(world.engine())
