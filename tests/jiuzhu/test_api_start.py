"""The API's start and list doors on the real procedures: every bad input
answers 4xx with a located Chinese message and stores nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from engine.clock import FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import load_households, opening
from jiuzhu.web.ledger import cell_value
from tests.support.start_world import real_world
from tests.support.web_support import TOKEN, WebWorld, csrf_of

HOUSEHOLD = load_households()["刘桂芳"]
MACHINE = {"Authorization": f"Bearer {TOKEN}"}
UNIT = "qinghe.dongcheng.yangliu"


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    return real_world(make_store, clock, db_url)


def _start(world: WebWorld, body: dict[str, Any], process_id: str = "dibao", **kwargs: Any) -> Any:
    return world.client().post(f"/api/processes/{process_id}/instances", json=body, headers=MACHINE, **kwargs)


def _nothing_stored(world: WebWorld) -> None:
    assert world.engine.list_instances() == []


def test_decision_fields_cannot_be_injected_at_the_start(world: WebWorld) -> None:
    data = {**opening(HOUSEHOLD), "approved": True, "monthly_amount": 99999, "certificate_no": "QH-1"}
    r = _start(world, {"data": data, "org_unit": UNIT})
    assert r.status_code == 422 and r.json()["code"] == "START_DATA_UNDECLARED"
    problems = {p["field"]: p for p in r.json()["problems"]}
    assert set(problems) == {"approved", "monthly_amount", "certificate_no"}
    assert all(p["element_id"] == "db_start" and "不能在发起时填写" in p["message"] for p in problems.values())
    r = _start(world, {"data": {"applicant": {"name": "张三"}}, "org_unit": UNIT}, "sla_skeleton")
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "applicant"
    assert "没有开始表单" in r.json()["problems"][0]["message"]
    _nothing_stored(world)
    assert _start(world, {"data": opening(HOUSEHOLD), "org_unit": UNIT}).status_code == 201


def test_a_second_open_application_is_refused_with_the_open_case_named(world: WebWorld) -> None:
    first = _start(world, {"data": opening(HOUSEHOLD), "org_unit": UNIT, "business_key": "DB-2026-0100"}).json()
    again = _start(world, {"data": opening(HOUSEHOLD), "org_unit": "qinghe.dongcheng"})
    assert again.status_code == 422 and again.json()["code"] == "DUPLICATE_APPLICATION"
    [problem] = again.json()["problems"]
    assert problem["field"] == "applicant/id_number" and "DB-2026-0100" in problem["message"]
    assert first["id"] in problem["message"]
    assert len(world.engine.list_instances()) == 1


@pytest.mark.parametrize(
    ("org_unit", "status", "code"),
    [(None, 422, "ORG_UNIT_REQUIRED"), ("nowhere", 422, "ORG_UNIT_UNKNOWN")],
)
def test_the_org_unit_must_exist(world: WebWorld, org_unit: str | None, status: int, code: str) -> None:
    r = _start(world, {"data": opening(HOUSEHOLD), "org_unit": org_unit})
    assert r.status_code == status and r.json()["code"] == code
    assert r.json()["problems"][0]["field"] == "org_unit" and "经办单位" in r.json()["message"]
    _nothing_stored(world)


def test_a_village_user_starts_only_in_its_own_unit(world: WebWorld) -> None:
    client = world.signed_in("xl_yangliu")
    headers = {"X-CSRF-Token": csrf_of(client.get("/cases/new/dibao").text)}
    body = {"data": opening(HOUSEHOLD), "org_unit": "qinghe.xiwan.shangzhuang"}
    r = client.post("/api/processes/dibao/instances", json=body, headers=headers)
    assert r.status_code == 403 and "管辖范围" in r.json()["message"]
    _nothing_stored(world)


def test_oversized_bodies_keys_and_broken_json_are_refused_in_the_standard_shape(world: WebWorld) -> None:
    huge = {"data": {"x": "a" * (30 * 1024 * 1024)}, "org_unit": UNIT}
    r = _start(world, huge)
    assert r.status_code == 413 and r.json()["code"] == "BODY_TOO_LARGE" and "请求体过大" in r.json()["message"]
    assert set(r.json()) == {"code", "message", "kind", "problems"}
    r = _start(world, {"data": opening(HOUSEHOLD), "org_unit": UNIT, "business_key": "K" * 200_000})
    assert r.status_code == 422
    [problem] = r.json()["problems"]
    assert problem["field"] == "body/business_key" and "长度不能超过 100 个字符" in problem["message"]
    r = _start(world, {"data": opening(HOUSEHOLD), "org_unit": UNIT, "business_key": "A\x00B"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "body/business_key"
    broken = world.client().post(
        "/api/processes/dibao/instances", content=b'{"data": {', headers={**MACHINE, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["message"] == "请求体不是有效的 JSON"
    _nothing_stored(world)


def test_instances_are_paged_within_the_callers_scope(world: WebWorld, clock: FixedClock) -> None:
    mine: list[str] = []
    others: list[str] = []
    for i in range(6):
        unit = UNIT if i % 2 == 0 else "qinghe.xiwan.shangzhuang"
        view = world.engine.start("sla_skeleton", {}, actor="t", org_unit=unit, region="CN")
        (mine if unit == UNIT else others).append(view.record.id)
        clock.advance(timedelta(minutes=1))
    client = world.signed_in("xl_yangliu")
    pages = [client.get("/api/instances", params={"limit": 1, "offset": n}).json() for n in range(4)]
    assert [[r["id"] for r in page] for page in pages] == [[mine[2]], [mine[1]], [mine[0]], []]
    assert [r["id"] for r in client.get("/api/instances", params={"limit": 3}).json()] == mine[::-1]


def test_the_losers_of_concurrent_completions_get_409(world: WebWorld) -> None:
    view = world.engine.start("sla_skeleton", {}, actor="t", org_unit=UNIT, region="CN")
    task = view.ready[0].id
    path = f"/api/instances/{view.record.id}/tasks/{task}/complete"
    answers: list[tuple[int, str]] = []
    barrier = threading.Barrier(20)

    def complete() -> None:
        client = world.client()
        barrier.wait()
        r = client.post(path, json={"data": {"materials_complete": True}}, headers=MACHINE)
        answers.append((r.status_code, r.json().get("code", "")))

    threads = [threading.Thread(target=complete) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers).count((409, "TASK_ALREADY_DONE")) == 19, answers
    assert [a for a in answers if a[0] == 200] == [(200, "")]


def test_a_control_character_in_a_name_cannot_break_the_ledger(world: WebWorld) -> None:
    # In-process starts are trusted code; the forms refuse such names, the ledger must survive old data.
    # \x07, not \x00: PostgreSQL refuses NUL in the stored state, xlsx refuses both.
    world.engine.start("sla_skeleton", {"applicant": {"name": "刘\x07桂芳", "id_number": "x"}}, actor="t",
                       org_unit=UNIT, region="CN")  # fmt: skip
    world.engine.start("sla_skeleton", {"applicant": {"name": "王五"}}, actor="t", org_unit=UNIT, region="CN")
    r = world.signed_in("jb_dongcheng").get("/cases/ledger.xlsx")
    assert r.status_code == 200
    rows = list(load_workbook(BytesIO(r.content)).active.iter_rows(values_only=True))
    column = rows[0].index("申请人")
    assert {"刘桂芳", "王五"} <= {row[column] for row in rows[1:]}
    assert cell_value("刘\x00桂\x1f芳\n") == "刘桂芳\n" and cell_value(3) == 3


def test_a_signed_in_user_starts_through_the_api_only_what_the_model_lets_the_role_start(world: WebWorld) -> None:
    village = world.signed_in("xl_yangliu")
    headers = {"X-CSRF-Token": csrf_of(village.get("/cases/new/dibao").text)}
    body = {"data": {}, "org_unit": UNIT}
    r = village.post("/api/processes/yishiyiyi/instances", json=body, headers=headers)  # the township's to refer
    assert r.status_code == 403 and "不能发起「" in r.json()["message"]
    r = village.post("/api/processes/yijianshi/instances", json=body, headers=headers)  # only the 低保 decision
    assert r.status_code == 403
    _nothing_stored(world)
    assert village.post("/api/processes/dibao/instances", json={**body, "data": opening(HOUSEHOLD)},
                        headers=headers).status_code == 201  # fmt: skip
    # A token caller keeps the route's rules (here the system token: any procedure).
    assert _start(world, {"data": {}, "org_unit": UNIT}, "sla_skeleton").status_code == 201
