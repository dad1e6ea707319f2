"""The inbox page and its actions: scope, counts, search, claim, 转交, 回退,
the task page and its form."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from engine.clock import SHANGHAI, FixedClock
from engine.runtime.task_facts import TaskFacts
from engine.service.facade import Engine
from integrations.ports import InboxQuery
from integrations.sql import SqlStore
from jiuzhu.accounts import hash_password
from jiuzhu.demo_cases import application, load_households, load_org_units, opening
from jiuzhu.web.auth import viewer_for
from jiuzhu.web.privacy import shown_id_number
from tests.support.page_text import cell
from tests.support.start_world import real_world
from tests.support.web_support import WebWorld, csrf_of, make_world


def _world(make_engine_for: Callable[..., Engine], db_url: str) -> WebWorld:
    world = make_world(make_engine_for, db_url)
    base = world.context.accounts.find_user("jb_dongcheng")
    assert base is not None
    colleague = replace(base, username="jb_dongcheng2", display_name="王二", password_hash=hash_password("jiuzhu-demo"))
    world.context.accounts.save_users([colleague])
    return world


def test_township_inbox_shows_its_villages_masked_and_counted(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = _world(make_engine_for, db_url)
    mine = world.start("qinghe.dongcheng.yangliu", name="刘一", key="DB-2026-001")
    world.start("qinghe.dongcheng", name="陈二", id_number="330102198001015678")
    neighbour = world.start("qinghe.xiwan.shangzhuang", name="邻居")
    page = world.signed_in("jb_dongcheng").get("/inbox")
    assert page.status_code == 200
    assert "刘一" in page.text and "陈二" in page.text and "邻居" not in page.text
    assert "3301**********1234" in page.text and "330102199001011234" not in page.text
    assert "杨柳社区" in page.text and "正常 2" in page.text
    xiwan = world.signed_in("jb_xiwan").get("/inbox").text
    assert "邻居" in xiwan and "刘一" not in xiwan
    # The township reviewer has no task in this lane; the village sees only its own village.
    assert "刘一" not in world.signed_in("sh_dongcheng").get("/inbox").text
    client = world.signed_in("jb_dongcheng")
    assert "陈二" not in client.get("/inbox?q=刘一").text
    assert "刘一" not in client.get("/inbox?q=5678").text
    assert "陈二" not in client.get("/inbox?q=DB-2026-001").text
    assert world.task_of(neighbour) not in client.get("/inbox").text
    assert world.task_of(mine) in client.get("/inbox?org=qinghe.dongcheng.yangliu").text


def test_states_follow_the_sla_clock(make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock) -> None:
    world = _world(make_engine_for, db_url)
    world.start("qinghe.dongcheng.yangliu")
    clock.advance(timedelta(days=60))
    client = world.signed_in("jb_dongcheng")
    page = client.get("/inbox?state=overdue")
    assert "张三" in page.text and "超期 1" in page.text
    assert "张三" not in client.get("/inbox?state=on_time").text


def test_pagination_and_sort(make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock) -> None:
    world = make_world(make_engine_for, db_url, JIUZHU_INBOX_PAGE_SIZE="2")
    for n in range(5):
        world.start("qinghe.dongcheng", name=f"申请人{n}")
        clock.advance(timedelta(minutes=1))
    client = world.signed_in("jb_dongcheng")
    first = client.get("/inbox?sort=ready").text
    assert "共 5 件，第 1/3 页" in first and "申请人0" in first and "申请人2" not in first
    last = client.get("/inbox?sort=ready&page=3").text
    assert "申请人4" in last and "申请人0" not in last
    assert "申请人4" in client.get("/inbox?sort=ready&desc=true").text


def test_claim_hides_from_colleagues_and_bulk_reassign_needs_a_fit(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = _world(make_engine_for, db_url)
    first, second = (world.task_of(world.start("qinghe.dongcheng")) for _ in range(2))
    client = world.signed_in("jb_dongcheng")
    token = csrf_of(client.get("/inbox").text)
    r = client.post("/inbox/claim", data={"task_ids": [first, second], "csrf_token": token})
    assert r.status_code == 303
    assert world.engine.ready_task(first).assignee == "jb_dongcheng"
    colleague = world.signed_in("jb_dongcheng2")
    assert first not in colleague.get("/inbox").text
    assert first in client.get("/inbox?view=mine").text
    # A reviewer is not in the task's lane: refused, nothing changes.
    data = {"task_ids": [first], "to": "sh_dongcheng", "reason": "休假", "csrf_token": token}
    client.post("/inbox/reassign", data=data)
    assert world.engine.ready_task(first).assignee == "jb_dongcheng"
    data = {"task_ids": [first, second], "to": "jb_dongcheng2", "reason": "休假", "csrf_token": token}
    client.post("/inbox/reassign", data=data)
    assert world.engine.ready_task(second).assignee == "jb_dongcheng2"
    assert first in colleague.get("/inbox?view=mine").text
    instance = world.engine.ready_task(first).instance_id
    kinds = [e.type for e in world.engine.events(instance)]
    assert kinds[-2:] == ["task_claimed", "task_reassigned"]
    # Someone else's task cannot be claimed, nor unclaimed.
    assert client.post(f"/tasks/{first}/claim", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/tasks/{first}/unclaim", data={"csrf_token": token}).status_code == 403


def test_task_page_submit_keeps_values_on_error_then_completes(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = _world(make_engine_for, db_url)
    instance = world.start("qinghe.dongcheng.hepan")
    task = world.task_of(instance)
    client = world.signed_in("jb_dongcheng")
    page = client.get(f"/tasks/{task}")
    assert page.status_code == 200 and "受理审查" in page.text and "3301**********1234" in page.text
    token = csrf_of(page.text)
    bad = client.post(f"/tasks/{task}", data={"csrf_token": token, "f/missing_materials": "户口本" * 400})
    assert bad.status_code == 422 and "户口本户口本" in bad.text and "jz-error" in bad.text
    ok = client.post(f"/tasks/{task}", data={"csrf_token": token, "f/materials_complete": "true"})
    assert ok.status_code == 303
    assert [t.element_id for t in world.engine.get(instance).ready] == ["start_investigation"]
    completed = [e for e in world.engine.events(instance) if e.type == "task_completed"]
    assert completed[0].actor == "jb_dongcheng"


def test_send_back_from_the_page(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    world = _world(make_engine_for, db_url)
    instance = world.start("qinghe.dongcheng")
    world.engine.complete_task(instance, world.task_of(instance), {"materials_complete": True}, actor="x")
    task = world.task_of(instance)
    client = world.signed_in("jb_dongcheng")
    token = csrf_of(client.get(f"/tasks/{task}").text)
    assert client.post(f"/tasks/{task}/send-back", data={"reason": "材料不全", "csrf_token": token}).status_code == 303
    assert [t.element_id for t in world.engine.get(instance).ready] == ["accept_review"]
    village = world.signed_in("xl_yangliu")
    assert village.post(f"/tasks/{task}/send-back", data={"reason": "x", "csrf_token": token}).status_code in (403, 404)


def test_partner_sees_only_its_department(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    world = _world(make_engine_for, db_url)
    instance = world.start("qinghe.dongcheng")
    task = world.engine.ready_task(world.task_of(instance))
    with world.engine.store.unit() as unit:
        facts = replace(task.facts, partner="供电公司", id_number=None)
        unit.refresh_task_facts({task.id: facts})
    with world.engine.store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("UPDATE ready_task SET lane = '联办部门'")
    directory = world.context.directory()
    for username, expected in (("lb_power", 1), ("lb_cable", 0), ("jb_dongcheng", 0)):
        user = world.context.accounts.find_user(username)
        assert user is not None
        viewer = viewer_for(user, directory)
        query = InboxQuery(
            me=username,
            now=world.engine.clock.now(),
            lanes=viewer.lanes,
            scope=viewer.scope,
            partner=viewer.department,
        )
        assert world.context.inbox.query(query).total == expected, username
    assert TaskFacts().id_suffix is None


def test_full_id_number_is_audited_and_only_for_authorized_roles(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = _world(make_engine_for, db_url)
    instance = world.start("qinghe.dongcheng")
    record = world.engine.instance_record(instance)
    directory = world.context.directory()

    def shown(username: str) -> str | None:
        user = world.context.accounts.find_user(username)
        assert user is not None
        return shown_id_number(world.context, viewer_for(user, directory), record, "330102199001011234", field="a")

    assert shown("jb_dongcheng") == "330102199001011234"
    assert shown("jb_xiwan") == "3301**********1234"
    assert shown("lb_power") == "3301**********1234"
    viewed = [e for e in world.engine.events(instance) if e.type == "id_number_viewed"]
    assert [e.actor for e in viewed] == ["jb_dongcheng"]
    assert world.engine.verify(instance)[0].ok


def test_a_natural_day_limit_is_counted_in_natural_days_as_on_the_case_page(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    """The real 低保: 受理 asks for 补正, whose 30-day limit counts natural days
    (processes/sla/dibao.national.sla.json, awaiting_correction). The village
    协理员's inbox row counts them as the case page does, not in working days."""
    world = real_world(make_store, clock, db_url)
    household = load_households()["刘桂芳"]
    unit = load_org_units()[household["org_unit"]]
    clock.set(datetime(2026, 9, 24, 9, 0, tzinfo=SHANGHAI))  # a Thursday before 中秋 and 国庆
    engine = world.engine
    started = engine.start("dibao", opening(household), actor="system", org_unit=unit["code"], region=unit["region"])
    iid_ = started.record.id
    engine.complete_task(iid_, engine.get(iid_).ready[0].id, application(household, "2026-09-24"), actor="申请人")
    correction = {"accept_decision": "需补正", "missing_materials": "缺少户口簿复印件和收入证明"}
    engine.complete_task(iid_, engine.get(iid_).ready[0].id, correction, actor="jb_dongcheng")
    [task] = engine.get(iid_).ready
    assert task.element_id == "db_correction"
    stage = next(s.clock for s in engine.sla_status(iid_) if s.clock.stage == "awaiting_correction")
    assert (stage.unit, stage.key) == ("natural_days", f"task:{task.id}")
    assert engine.ready_task(task.id).facts.due_unit == "natural_days"
    client = world.signed_in("xl_yangliu")

    def shown() -> tuple[str, str]:
        inbox = client.get("/inbox")
        assert inbox.status_code == 200, inbox.text
        row = inbox.text[inbox.text.index(f'data-task="{task.id}"') :]
        case = client.get(f"/cases/{iid_}")
        assert case.status_code == 200, case.text
        return cell(row, "inbox-left"), cell(case.text, "sla-left-awaiting_correction")

    natural = (stage.due_on - date(2026, 9, 24)).days
    working = engine.calendar().working_days_between(date(2026, 9, 24), stage.due_on)
    assert natural != working  # 中秋 and 国庆 lie in between: the two counts differ
    assert shown() == (f"{natural}天", f"{natural}天")
    clock.set(datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI))  # after the holidays
    left = (stage.due_on - date(2026, 10, 8)).days
    assert shown() == (f"{left}天", f"{left}天")
    clock.set(datetime.combine(stage.due_on + timedelta(days=3), time(9), SHANGHAI))
    assert shown() == ("已超期 3天", "已超期 3天")


def test_working_days_left_skip_the_holidays_of_the_cases_region(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    """A region's own holiday (loaded as a regional schedule) is not a working day
    for its cases: the inbox counts the days left as the case page does."""
    world = _world(make_engine_for, db_url)
    holiday = {"year": 2026, "version": "测试-新疆-2026", "effective_from": "2026-01-05", "workdays": [],
               "holidays": [{"name": "地方节日", "dates": ["2026-11-03"]}], "region": "CN-XJ"}  # fmt: skip
    world.engine.load_calendar(json.dumps(holiday, ensure_ascii=False), source="test", actor="admin")
    data = {"applicant": {"name": "艾力", "id_number": "650102199001011234"}}
    iid = world.engine.start(
        "sla_skeleton", data, actor="system", org_unit="qinghe.dongcheng", region="CN-XJ"
    ).record.id
    task = world.task_of(iid)
    assert world.engine.ready_task(task).facts.due_region == "CN-XJ"
    client = world.signed_in("jb_dongcheng")
    inbox = client.get("/inbox").text
    left = cell(inbox[inbox.index(f'data-task="{task}"') :], "inbox-left")
    assert left == cell(client.get(f"/cases/{iid}").text, "sla-left-overall") == "30个工作日"
