"""The 联办事项 panel of the case page: each item's state from its audit events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.audit import AuditEvent, seal
from engine.clock import FixedClock
from engine.events import EventDraft
from engine.service.facade import Engine
from integrations.partner import external, keys
from jiuzhu.web.case_items import case_items
from tests.support.partner_world import GRANTED, Case, deployed
from tests.support.web_support import make_world
from tests.support.yijianshi_world import CORRECT

AT = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
DATA = {
    "handoffs": {
        "dianfei": {"item": {"code": "dianfei", "name": "电费减免", "partner": "供电公司"}},
        "youxian": {"item": {"code": "youxian", "name": "有线电视费减免", "partner": "广电网络公司"}},
    }
}


def sealed(*drafts: tuple[str, dict[str, Any], str | None]) -> list[AuditEvent]:
    return seal("c", [EventDraft(t, p, task) for t, p, task in drafts], after_seq=0, prev_hash="0", at=AT)


def test_items_follow_push_return_resend_and_result() -> None:
    log = sealed(
        ("handoff_opened", {"item": "dianfei", "round": 1, "due_on": "2026-11-09"}, "h1"),
        ("handoff_opened", {"item": "youxian", "round": 1, "due_on": "2026-11-09"}, "h2"),
        ("partner_leased", {"item": "dianfei"}, "h1"),
        ("task_completed", {"form_data": {"partner_action": "退回民政", "return_reason": "户号不符"}}, "h1"),
        ("partner_returned", {"item": "dianfei", "reason": "户号不符"}, "h1"),
        ("handoff_opened", {"item": "dianfei", "round": 2, "due_on": "2026-11-16"}, "h3"),
        ("task_completed", {"form_data": {"partner_action": "签收"}}, "h2"),
        ("task_completed", {"form_data": {"partner_action": "办结反馈", "report": GRANTED}}, "h3"),
        ("partner_result", {"item": "dianfei", "granted": True}, "h3"),
    )
    power, cable = case_items(DATA, log)
    assert (power.state, power.round, power.due_on, power.returns) == ("reported", 2, "2026-11-16", ["户号不符"])
    assert power.label == "已享受" and power.result is not None and power.result["amount"] == 5.0
    assert power.pushed_by is None  # round 2 was answered in the partner's inbox, not locked over the API
    assert (cable.state, cable.label) == ("signed", "已签收，办理中")


def test_reported_results_in_the_data_win_and_other_cases_have_no_items() -> None:
    result = {"granted": False, "reason": "已在其他渠道享受"}
    [power, cable] = case_items({**DATA, "results": {"dianfei": result}}, [])
    assert (power.label, power.result) == ("未享受", result)
    assert (cable.state, cable.label) == ("pending", "待推送")
    assert case_items({"applicant": {"name": "刘一"}}, []) == []


def test_case_page_shows_each_item_and_its_return(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url)
    deployed(world.engine)
    case = Case(world.engine, clock)
    instance = case.start(["dianfei", "youxian"])
    power = keys.authenticate(world.engine, keys.create(world.engine, "供电公司", actor="admin"))
    [task] = external.fetch_and_lock(world.engine, power, worker_id="w", topics=["dianfei"], lease=timedelta(minutes=5))
    external.return_(world.engine, power, task["id"], task["lock_token"], "供电户号与户主不符")
    page = world.signed_in("jb_dongcheng").get(f"/cases/{instance}")
    assert page.status_code == 200
    panel = page.text.split('data-testid="items-panel"')[1].split("</section>")[0]
    assert "电费" in panel and "已退回，待民政补正" in panel and "供电户号与户主不符" in panel
    assert "已推送，待签收" in panel  # the cable item, untouched
    assert "供电公司退回民政，原因：供电户号与户主不符" in page.text  # the timeline says it too
    [correct] = case.ready(CORRECT)
    told = world.signed_in("jb_dongcheng").get(f"/tasks/{correct.id}").text
    assert "供电公司退回了联办事项「电费减免」（第 1 轮推送），退回原因：供电户号与户主不符" in told
    fixed = {"correction_note": "已核实户号", "corrected_fields": {"electricity_account": "3300998877"}}
    world.engine.complete_task(instance, correct.id, fixed, actor="jb_dongcheng")
    [again] = external.fetch_and_lock(world.engine, power, worker_id="w", lease=timedelta(minutes=5))
    external.complete(world.engine, power, again["id"], again["lock_token"], GRANTED)
    panel = world.signed_in("jb_dongcheng").get(f"/cases/{instance}").text.split('data-testid="items-panel"')[1]
    row = panel.split('data-item="dianfei"')[1].split("</tr>")[0]
    assert "已享受" in row and "<td>2</td>" in row and "5.00元/月" in row and "供电户号与户主不符" in row


def test_a_case_links_to_the_yijianshi_case_it_started_for_those_who_may_open_it(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url)
    deployed(world.engine)
    child = Case(world.engine, clock).start(["dianfei"])
    data = {"applicant": {"name": "张秀英"}, "yijianshi_case": {"instance_id": child, "process_id": "yijianshi"}}
    parent = world.engine.start("sla_skeleton", data, actor="system", org_unit="qinghe.dongcheng", region="CN")
    page = world.signed_in("jb_dongcheng").get(f"/cases/{parent.record.id}").text
    assert f'href="/cases/{child}" data-testid="linked-case"' in page
    assert 'data-testid="items-panel"' not in page  # a 低保 case has no items of its own
    assert world.signed_in("jb_xiwan").get(f"/cases/{parent.record.id}").status_code == 403
