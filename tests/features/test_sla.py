"""Step definitions for the SLA acceptance scenarios in ``features/sla_*.feature`` (Chinese Gherkin).

Every scenario runs four times: SQLite with the embedded scheduler, PostgreSQL
with the Redis wake-up index, and each of the two again with a new engine for
every step and every scheduler run ("restart"). See :mod:`tests.support.sla_world`
for how time moves. The label 「总时限」 names the overall clock; any other
label is a BPMN element name or the policy's name for a stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from engine.errors import InvalidRequestError
from engine.sla.clocks import STATE_LABELS
from tests.support.sla_world import (
    BACKENDS,
    FEATURES,
    Backend,
    World,
    open_world,
    parse_day,
    parse_moment,
    restarts,
    show,
    show_day,
)

scenarios(
    "sla_national.feature",
    "sla_devolved.feature",
    "sla_zhejiang.feature",
    "sla_deadlines_guoqing.feature",
    "sla_year_boundary.feature",
)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture(autouse=True)
def world(backend: Backend, tmp_path: Path) -> Iterator[World]:
    # autouse, so that the backend parameters reach every generated scenario test
    yield from open_world(backend, tmp_path)


def _re(pattern: str) -> parsers.re:
    return parsers.re(pattern)


# -- 假如 / 当: set-up and actions ------------------------------------------------------------


@given("已加载时限政策并部署「低保审核确认（时限骨架）」流程")
@restarts
def deployed(world: World) -> None:
    world.deploy()


@given(_re(r"今天是 (?P<when>.+)"))
@restarts
def today(world: World, when: str) -> None:
    world.advance_to(parse_moment(when))


@given(_re(r"(?P<place>[^（「」]+)（区划 (?P<region>[A-Z]{2}(?:-[A-Z0-9]+)*)）受理一件低保申请"))
@when(_re(r"(?P<place>[^（「」]+)（区划 (?P<region>[A-Z]{2}(?:-[A-Z0-9]+)*)）受理一件低保申请"))
@restarts
def accepted(world: World, place: str, region: str) -> None:
    world.start(region, org_unit=place)


@given("经办人确认材料齐全")
@when("经办人确认材料齐全")
@restarts
def materials_complete(world: World) -> None:
    world.complete("accept_review", {"materials_complete": True}, actor="乡镇经办人")


@when("经办人发现材料不齐全，一次性告知申请人补正")
@restarts
def materials_missing(world: World) -> None:
    world.complete("accept_review", {"materials_complete": False}, actor="乡镇经办人")


@when("申请人补齐材料")
@restarts
def materials_corrected(world: World) -> None:
    world.complete("awaiting_correction", {}, actor="申请人")


@given(_re(r"(?P<who>[^「」\s]+)完成「(?P<task>[^」]+)」"))
@when(_re(r"(?P<who>[^「」\s]+)完成「(?P<task>[^」]+)」"))
@restarts
def task_done(world: World, who: str, task: str) -> None:
    world.complete(world.element(task), {}, actor=who)


@given(_re(r"又过了 (?P<n>\d+) 个工作日"))
@when(_re(r"又过了 (?P<n>\d+) 个工作日"))
@restarts
def working_days_pass(world: World, n: str) -> None:
    world.advance_to(world.add_working_days(int(n)))


_UNITS = {"天": timedelta(days=1), "小时": timedelta(hours=1), "分钟": timedelta(minutes=1), "秒": timedelta(seconds=1)}


@when(_re(r"又过了 (?P<n>\d+) (?P<unit>天|小时|分钟|秒)"))
@restarts
def time_passes(world: World, n: str, unit: str) -> None:
    world.advance_to(world.clock.now() + int(n) * _UNITS[unit])


@given(_re(r"时间来到 (?P<when>.+)"))
@when(_re(r"时间来到 (?P<when>.+)"))
@restarts
def time_comes(world: World, when: str) -> None:
    world.advance_to(parse_moment(when))


@when(_re(r"「(?P<role>[^」]+)」批准延期，理由「(?P<reason>[^」]+)」"))
@restarts
def extension_approved(world: World, role: str, reason: str) -> None:
    world.engine().extend_sla(world.iid, reason=reason, approver=f"{role}审批人", approver_role=role, actor=role)


@when(_re(r"「(?P<role>[^」]+)」试图批准延期，理由「(?P<reason>[^」]+)」"))
@restarts
def extension_attempted(world: World, role: str, reason: str) -> None:
    try:
        world.engine().extend_sla(world.iid, reason=reason, approver=f"{role}审批人", approver_role=role, actor=role)
    except InvalidRequestError as exc:
        world.refusal = exc
    else:
        world.refusal = None


@when(_re(r"管理员加载(?P<year>\d{4})年放假安排「(?P<path>[^」]+)」"))
@restarts
def calendar_loaded(world: World, year: str, path: str) -> None:
    file = FEATURES / path
    schedule, _ = world.engine().load_calendar(file.read_text(encoding="utf-8"), source=path, actor="系统管理员")
    assert schedule.year == int(year), f"{path} 是 {schedule.year} 年的安排，不是 {year} 年"


# -- 那么: checks ------------------------------------------------------------------------------


@then(_re(r"现在是 (?P<when>.+)"))
@restarts
def now_is(world: World, when: str) -> None:
    assert world.clock.now() == parse_moment(when), f"现在是 {show(world.clock.now())}"


@then(_re(r"本案适用「(?P<policy>[^」]+)」时限政策"))
@restarts
def policy_applies(world: World, policy: str) -> None:
    assert world.policy_id() == policy


@then(_re(r"「(?P<label>[^」]+)」的期限是 (?P<when>.+)"))
@restarts
def deadline_is(world: World, label: str, when: str) -> None:
    expected = parse_day(when)
    actual = world.clock_of(label).clock.due_on
    assert actual == expected, f"「{label}」的期限：应为 {show_day(expected)}，实际 {show_day(actual)}"


@then(_re(r"「(?P<label>[^」]+)」处于「(?P<state>[^」]+)」状态"))
@restarts
def state_is(world: World, label: str, state: str) -> None:
    actual = world.clock_of(label).state
    shown = STATE_LABELS.get(actual, actual)
    assert shown == state or shown.startswith(f"{state}（"), f"「{label}」处于「{shown}」（{actual}）状态"


@then(_re(r"「(?P<label>[^」]+)」还剩 (?P<n>\d+) 个工作日"))
@restarts
def days_left(world: World, label: str, n: str) -> None:
    assert world.clock_of(label).working_days_left == int(n)


@then(_re(r"「(?P<label>[^」]+)」(?P<which>已|仍|尚未)待办"))
@restarts
def task_ready(world: World, label: str, which: str) -> None:
    ready = world.element(label) in world.ready_elements()
    assert ready == (which != "尚未"), f"待办：{world.ready_names()}"


@then(_re(r"审计日志中恰好有 (?P<n>\d+) 条(?:关于「(?P<label>[^」]+)」的)?「(?P<type_>[a-z_]+)」事件"))
@restarts
def events_counted(world: World, n: str, label: str | None, type_: str) -> None:
    _count_events(world, int(n), label, type_)


@then(_re(r"审计日志中没有(?:关于「(?P<label>[^」]+)」的)?「(?P<type_>[a-z_]+)」事件"))
@restarts
def no_events(world: World, label: str | None, type_: str) -> None:
    _count_events(world, 0, label, type_)


def _count_events(world: World, n: int, label: str | None, type_: str) -> None:
    world.last_events = world.events(type_, label)
    found = [f"{e.seq}@{show(e.occurred_at)}" for e in world.last_events]
    assert len(world.last_events) == n, f"{type_}{f'（{label}）' if label else ''}：{found}"


@then(_re(r"该事件发生在 (?P<when>.+)"))
@restarts
def event_at(world: World, when: str) -> None:
    assert len(world.last_events) == 1
    assert world.last_events[0].occurred_at == parse_moment(when), show(world.last_events[0].occurred_at)


@then(_re(r"该事件记录审批角色「(?P<role>[^」]+)」和理由「(?P<reason>[^」]+)」"))
@restarts
def extension_recorded(world: World, role: str, reason: str) -> None:
    assert len(world.last_events) == 1
    payload = world.last_events[0].payload
    assert (payload["approver_role"], payload["reason"]) == (role, reason), payload


@then(_re(r"该事件记录「(?P<label>[^」]+)」由 (?P<old>\S+) 改为 (?P<new>\S+)，不再暂定"))
@restarts
def recompute_recorded(world: World, label: str, old: str, new: str) -> None:
    assert len(world.last_events) == 1
    event = world.last_events[0]
    assert event.payload["clock"] in {s.clock.key for s in world.clocks(label)}, event.payload
    changed = (event.payload["old_due_on"], event.payload["new_due_on"], event.payload["provisional"])
    assert changed == (parse_day(old).isoformat(), parse_day(new).isoformat(), False), event.payload


@then(_re(r"该事件记录的日历版本包含「(?P<version>[^」]+)」"))
@restarts
def calendar_version_recorded(world: World, version: str) -> None:
    assert len(world.last_events) == 1
    assert version in world.last_events[0].payload["calendar_version"], world.last_events[0].payload


@then(_re(r"「(?P<label>[^」]+)」定时器恰好触发 (?P<n>\d+) 次，在 (?P<when>.+)"))
@restarts
def timer_fired(world: World, label: str, n: str, when: str) -> None:
    element = world.element(label)
    fired = [e for e in world.events("timer_fired") if e.element_id == element]
    assert [e.occurred_at for e in fired] == [parse_moment(when)] * int(n), [show(e.occurred_at) for e in fired]


@then(_re(r"「(?P<label>[^」]+)」定时器尚未触发"))
@restarts
def timer_not_fired(world: World, label: str) -> None:
    element = world.element(label)
    assert not [e for e in world.events("timer_fired") if e.element_id == element]


@then(_re(r"流程变量 (?P<name>\w+) 为真"))
@restarts
def variable_true(world: World, name: str) -> None:
    assert world.engine().get(world.iid).data.get(name) is True


@then(_re(r"已就「(?P<label>[^」]+)」向「(?P<role>[^」]+)」发起 (?P<n>\d+) 次督办"))
@restarts
def supervised(world: World, label: str, role: str, n: str) -> None:
    rows = world.supervisions(label)
    assert [r["role"] for r in rows] == [role] * int(n), rows
    due = world.clock_of(label).clock.due_at
    assert all(r["raised_at"] == due.isoformat() for r in rows), (rows, show(due))


@then(_re(r"尚未就「(?P<label>[^」]+)」发起督办"))
@restarts
def not_supervised(world: World, label: str) -> None:
    assert world.supervisions(label) == []


@then("尚未发起任何督办")
@restarts
def no_supervision(world: World) -> None:
    assert world.supervisions() == []


@then(_re(r"延期被拒绝，提示「(?P<message>.+)」"))
@restarts
def extension_refused(world: World, message: str) -> None:
    assert world.refusal is not None, "延期没有被拒绝"
    assert message in str(world.refusal), str(world.refusal)
