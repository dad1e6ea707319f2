"""Step definitions for the SLA acceptance scenarios in ``features/sla_*.feature`` (Chinese Gherkin).

Every scenario runs four times: SQLite with the embedded scheduler, PostgreSQL
with the Redis wake-up index, and each of the two again with a new engine for
every step and every scheduler run ("restart"). See :mod:`tests.support.sla_world`
for how time moves. The label 「总时限」 names the overall clock; any other
label is a BPMN element name or the policy's name for a stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from engine.errors import InvalidRequestError
from tests.support.sla_world import (
    BACKENDS,
    FEATURES,
    Backend,
    World,
    open_world,
    parse_day,
    restarts,
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


# -- 假如 / 当: set-up and actions ------------------------------------------------------------


@given("已加载时限政策并部署「低保审核确认（时限骨架）」流程")
@restarts
def deployed(world: World) -> None:
    world.deploy()


@given(parsers.re(r"(?P<place>[^（「」]+)（区划 (?P<region>[A-Z]{2}(?:-[A-Z0-9]+)*)）受理一件低保申请"))
@when(parsers.re(r"(?P<place>[^（「」]+)（区划 (?P<region>[A-Z]{2}(?:-[A-Z0-9]+)*)）受理一件低保申请"))
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


@given(parsers.re(r"(?P<who>[^「」\s]+)完成「(?P<task>[^」]+)」"))
@when(parsers.re(r"(?P<who>[^「」\s]+)完成「(?P<task>[^」]+)」"))
@restarts
def task_done(world: World, who: str, task: str) -> None:
    world.complete(world.element(task), {}, actor=who)


@when(parsers.re(r"「(?P<role>[^」]+)」批准延期，理由「(?P<reason>[^」]+)」"))
@restarts
def extension_approved(world: World, role: str, reason: str) -> None:
    world.engine().extend_sla(world.iid, reason=reason, approver=f"{role}审批人", approver_role=role, actor=role)


@when(parsers.re(r"「(?P<role>[^」]+)」试图批准延期，理由「(?P<reason>[^」]+)」"))
@restarts
def extension_attempted(world: World, role: str, reason: str) -> None:
    try:
        world.engine().extend_sla(world.iid, reason=reason, approver=f"{role}审批人", approver_role=role, actor=role)
    except InvalidRequestError as exc:
        world.refusal = exc
    else:
        world.refusal = None


@when(parsers.re(r"管理员加载(?P<year>\d{4})年放假安排「(?P<path>[^」]+)」"))
@restarts
def calendar_loaded(world: World, year: str, path: str) -> None:
    file = FEATURES / path
    schedule, _ = world.engine().load_calendar(file.read_text(encoding="utf-8"), source=path, actor="系统管理员")
    assert schedule.year == int(year), f"{path} 是 {schedule.year} 年的安排，不是 {year} 年"


# -- 那么: checks ------------------------------------------------------------------------------


@then(parsers.re(r"该事件记录审批角色「(?P<role>[^」]+)」和理由「(?P<reason>[^」]+)」"))
@restarts
def extension_recorded(world: World, role: str, reason: str) -> None:
    assert len(world.last_events) == 1
    payload = world.last_events[0].payload
    assert (payload["approver_role"], payload["reason"]) == (role, reason), payload


@then(parsers.re(r"该事件记录「(?P<label>[^」]+)」由 (?P<old>\S+) 改为 (?P<new>\S+)，不再暂定"))
@restarts
def recompute_recorded(world: World, label: str, old: str, new: str) -> None:
    assert len(world.last_events) == 1
    event = world.last_events[0]
    assert event.payload["clock"] in {s.clock.key for s in world.clocks(label)}, event.payload
    changed = (event.payload["old_due_on"], event.payload["new_due_on"], event.payload["provisional"])
    assert changed == (parse_day(old).isoformat(), parse_day(new).isoformat(), False), event.payload


@then(parsers.re(r"该事件记录的日历版本包含「(?P<version>[^」]+)」"))
@restarts
def calendar_version_recorded(world: World, version: str) -> None:
    assert len(world.last_events) == 1
    assert version in world.last_events[0].payload["calendar_version"], world.last_events[0].payload


@then(parsers.re(r"流程变量 (?P<name>\w+) 为真"))
@restarts
def variable_true(world: World, name: str) -> None:
    assert world.engine().get(world.iid).data.get(name) is True


@then(parsers.re(r"延期被拒绝，提示「(?P<message>.+)」"))
@restarts
def extension_refused(world: World, message: str) -> None:
    assert world.refusal is not None, "延期没有被拒绝"
    assert message in str(world.refusal), str(world.refusal)
