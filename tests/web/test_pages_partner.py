"""The partner inbox (联办待办): a department sees and works only its own
handoffs, every view of one is audited once, and 签收 / 退回民政 / 反馈结果 go
through the same step (and events) as the external-task API."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.clock import SHANGHAI, FixedClock
from engine.service.facade import Engine
from integrations.partner import external, keys
from integrations.partner.handoffs import H
from integrations.partner.keys import conn
from tests.support.page_text import raw_codes, visible_text
from tests.support.partner_world import Case, deployed
from tests.support.web_support import PASSWORD, WebWorld, csrf_of, make_world
from tests.support.yijianshi_world import CORRECT, RESULT, SIGN

GRANTED = {"granted": "yes", "benefit": "每月电费减免10千瓦时", "amount": "5", "amount_unit": "元/月"}


@dataclass
class PartnerWorld:
    web: WebWorld
    case: Case

    @property
    def engine(self) -> Engine:
        return self.web.engine

    def handoff(self, item: str, element_id: str = SIGN) -> str:
        [task] = [t for t in self.case.ready(element_id) if self.engine.task_data(self.case.instance_id, t.id)
                  ["handoff"]["item"]["code"] == item]  # fmt: skip
        return str(task.id)

    def status(self, handoff_id: str) -> str:
        with self.engine.store.reader() as unit:
            return str(conn(unit).execute(H.select().where(H.c.id == handoff_id)).one().status)

    def events(self, kind: str) -> list[Any]:
        return [e for e in self.engine.events(self.case.instance_id) if e.type == kind]


@pytest.fixture
def make_partner_world(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> Callable[..., PartnerWorld]:
    def factory(items: list[str] | None = None, **settings: str) -> PartnerWorld:
        web = make_world(make_engine_for, db_url, **settings)  # its app hooks the handoff recorder into the engine
        deployed(web.engine)
        case = Case(web.engine, clock)
        case.start(items or ["dianfei", "youxian"])
        return PartnerWorld(web, case)

    return factory


def post(client: TestClient, path: str, page: str, data: dict[str, str] | None = None) -> Any:
    return client.post(path, data={**(data or {}), "csrf_token": csrf_of(client.get(page).text)})


@dataclass
class PowerDesk:
    """The power company's user on its one 电费减免 handoff."""

    world: PartnerWorld
    client: TestClient
    handoff: str

    @property
    def page(self) -> str:
        return f"/partner/handoffs/{self.handoff}"

    def post(self, action: str, data: dict[str, str] | None = None) -> Any:
        return post(self.client, f"{self.page}/{action}", self.page, data)


@pytest.fixture
def power(make_partner_world: Callable[..., PartnerWorld]) -> PowerDesk:
    world = make_partner_world(["dianfei"])
    return PowerDesk(world, world.web.signed_in("lb_power"), world.handoff("dianfei"))


def test_a_partner_lands_on_its_own_handoffs_only(make_partner_world: Callable[..., PartnerWorld]) -> None:
    world = make_partner_world()
    client = world.web.client()
    page = client.get("/signin")
    form = {"username": "lb_power", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    r = client.post("/signin", data=form)
    assert r.headers["location"] == "/partner"
    assert client.get("/").headers["location"] == "/partner"
    assert client.get("/inbox").headers["location"] == "/partner"  # not the caseworkers' inbox
    power = client.get("/partner").text
    assert "电费减免" in power and "有线电视费减免" not in power and "张秀英" in power
    assert re.search(r'data-tab="sign">待签收 <span class="count">1</span>', power)
    assert 'href="/partner"' in power and "联办待办" in power and 'href="/cases"' not in power
    cable = world.web.signed_in("lb_cable").get("/partner").text
    assert "有线电视费减免" in cable and "电费减免" not in cable.replace("有线电视费减免", "")
    caseworker = world.web.signed_in("jb_dongcheng")
    assert caseworker.get("/partner").status_code == 403
    assert 'href="/partner"' not in caseworker.get("/inbox").text


def test_another_departments_handoff_is_not_found_and_a_caseworker_is_refused(
    make_partner_world: Callable[..., PartnerWorld],
) -> None:
    world = make_partner_world()
    power_item = world.handoff("dianfei")
    assert world.web.signed_in("lb_cable").get(f"/partner/handoffs/{power_item}").status_code == 404
    cable = world.web.signed_in("lb_cable")
    r = post(cable, f"/partner/handoffs/{power_item}/accept", "/partner")
    assert r.status_code == 404 and world.status(power_item) == "open"
    assert world.web.signed_in("jb_dongcheng").get(f"/partner/handoffs/{power_item}").status_code == 403
    assert world.events("partner_read") == []


def test_the_page_shows_exactly_the_minimised_fields_and_each_view_is_audited_once(
    make_partner_world: Callable[..., PartnerWorld],
) -> None:
    world = make_partner_world()
    power_item = world.handoff("dianfei")
    client = world.web.signed_in("lb_power")
    page = client.get(f"/partner/handoffs/{power_item}").text
    visible = world.case.catalogue.by_code("dianfei")["visible_fields"]
    shown = re.findall(r'<dt data-field="([a-z_]+)">', page)
    assert sorted(shown) == sorted(visible)
    assert "电力户号" in page and "3301069876" in page and "户主姓名" in page
    assert "家庭月收入" not in page and "1800" not in page and "330106196805120024" not in page
    [read] = world.events("partner_read")
    assert read.actor == "lb_power"
    assert read.payload == {"handoff_id": power_item, "item": "dianfei", "department": "供电公司", "channel": "web",
                            "fields_read": sorted(visible)}  # fmt: skip
    client.get(f"/partner/handoffs/{power_item}")
    assert len(world.events("partner_read")) == 2
    client.get("/partner")  # the list shows names only: one system-chain event names the handoffs shown
    assert len(world.events("partner_read")) == 2
    with world.engine.store.reader() as unit:
        [listed] = [e for e in unit.events("_system") if e.type == "partner_list_read"]
    assert (listed.actor, listed.payload["handoffs"], listed.payload["fields_read"]) == (
        "lb_power", [power_item], ["applicant_name"])  # fmt: skip
    assert world.engine.verify(world.case.instance_id)[0].ok


def test_sign_then_report_records_one_result_and_lands_in_the_happiness_list(
    make_partner_world: Callable[..., PartnerWorld],
) -> None:
    world = make_partner_world(["dianfei"])
    signing = world.handoff("dianfei")
    client = world.web.signed_in("lb_power")
    r = post(client, f"/partner/handoffs/{signing}/accept", f"/partner/handoffs/{signing}")
    result = world.handoff("dianfei", RESULT)
    assert (r.status_code, r.headers["location"]) == (303, f"/partner/handoffs/{result}")
    assert world.status(signing) == "completed"
    page = client.get(r.headers["location"]).text
    assert "已签收「电费减免」" in page and "退回民政" not in page
    r = post(client, f"/partner/handoffs/{result}/report", f"/partner/handoffs/{result}",
             {**GRANTED, "effective_from": "2026-12-01"})  # fmt: skip
    assert (r.status_code, r.headers["location"]) == (303, "/partner?tab=completed")
    done = client.get("/partner?tab=completed").text
    assert "已反馈「电费减免」的办理结果（享受）" in done
    assert 'data-tab="completed">已办结 <span class="count">1</span>' in done  # the item, not its 签收 too
    assert done.count('data-item="dianfei"') == 1
    [signed] = world.events("partner_signed")
    [reported] = world.events("partner_result")
    assert (signed.actor, signed.payload["department"]) == ("lb_power", "供电公司")
    assert reported.actor == "lb_power" and reported.payload["department"] == "供电公司"
    assert reported.payload["granted"] is True and reported.payload["handoff_id"] == result
    assert world.engine.get(world.case.instance_id).data["results"]["dianfei"]["effective_from"] == "2026-12-01"
    listing = {row["code"]: row for row in world.case.notify()["happiness_list"]}
    assert listing["dianfei"]["status"] == "已享受" and listing["dianfei"]["amount"] == 5.0
    history = client.get(f"/partner/handoffs/{result}")  # the case has ended: history still opens, read-only
    assert history.status_code == 200 and 'data-testid="closed"' in history.text and "report-form" not in history.text
    assert world.engine.get(world.case.instance_id).record.status == "completed"


def test_a_report_at_sign_ends_the_item_at_once_and_a_second_submission_is_refused(power: PowerDesk) -> None:
    refusal = {"granted": "no", "reason": "该户已享受同类电费补贴"}
    assert power.post("report", refusal).status_code == 303
    again = power.post("report", refusal)
    assert again.status_code == 409 and 'data-code="HANDOFF_CLOSED"' in again.text and not raw_codes(again.text)
    assert len(power.world.events("partner_result")) == 1
    assert [t.element_id for t in power.world.engine.get(power.world.case.instance_id).ready] == ["yjs_notify"]


def test_report_errors_are_located_in_chinese_and_change_nothing(power: PowerDesk) -> None:
    world, client, signing, page = power.world, power.client, power.handoff, power.page
    r = power.post("report", {})
    assert r.status_code == 422 and 'data-error-for="granted">请选择是否享受' in r.text
    r = power.post("report", {"granted": "yes", "amount": "五元", "amount_unit": "元/月"})
    assert r.status_code == 422 and 'data-error-for="amount">请输入数字金额' in r.text
    r = power.post("report", {"granted": "yes", "amount": "5"})
    assert r.status_code == 422
    assert 'data-error-for="benefit">此项为必填' in r.text and "享受内容：此项为必填" in r.text
    assert "填写了「金额（元）」时此项为必填" in r.text and 'value="5"' in r.text  # what was typed stays
    r = power.post("report", {"granted": "no"})
    assert r.status_code == 422 and 'data-error-for="reason">此项为必填' in r.text
    assert world.status(signing) == "open" and world.events("partner_result") == []
    assert client.post(f"{page}/report", data=GRANTED).status_code == 403  # no CSRF token
    assert world.status(signing) == "open"


def test_return_needs_a_reason_goes_to_the_caseworker_and_the_resend_shows_it(power: PowerDesk) -> None:
    world, client, first = power.world, power.client, power.handoff
    r = power.post("return", {"reason": " "})
    assert r.status_code == 422 and 'data-error-for="return_reason">请填写退回原因' in r.text
    assert world.status(first) == "open"
    reason = "电力户号与户主姓名不符"
    r = power.post("return", {"reason": reason})
    assert (r.status_code, r.headers["location"]) == (303, "/partner?tab=returned")
    assert world.status(first) == "returned"
    [returned] = world.events("partner_returned")
    assert returned.actor == "lb_power" and returned.payload["reason"] == reason
    assert returned.payload["department"] == "供电公司"
    [correct] = world.case.ready(CORRECT)
    world.engine.complete_task(world.case.instance_id, correct.id, {"correction_note": "已核实更正户号",
        "corrected_fields": {"electricity_account": "3301060000"}}, actor="jb_dongcheng")  # fmt: skip
    listed = client.get("/partner").text
    assert "第 2 轮" in listed and f"曾退回：{reason}" in listed
    second = world.handoff("dianfei")
    page = client.get(f"/partner/handoffs/{second}").text
    assert reason in page and "3301060000" in page
    assert "<td>已核实更正户号</td>" in page and "<td>电力户号</td>" in page  # 民政's note, the field it corrected
    assert post(client, f"/partner/handoffs/{second}/accept", f"/partner/handoffs/{second}").status_code == 303
    result = world.handoff("dianfei", RESULT)
    r = post(client, f"/partner/handoffs/{result}/return", f"/partner/handoffs/{result}", {"reason": "不办了"})
    assert r.status_code == 422 and 'data-code="HANDOFF_NOT_RETURNABLE"' in r.text and not raw_codes(r.text)
    assert "已签收的事项不能退回" in visible_text(r.text)
    assert len(world.events("partner_returned")) == 1


def test_a_live_machine_lease_refuses_the_web_action(power: PowerDesk, clock: FixedClock) -> None:
    world, signing = power.world, power.handoff
    partner = keys.authenticate(world.engine, keys.create(world.engine, "供电公司", actor="admin"))
    [task] = external.fetch_and_lock(world.engine, partner, worker_id="power-erp", lease=timedelta(minutes=5))
    assert "正由本单位的接口系统（power-erp）办理中" in power.client.get(power.page).text
    r = power.post("accept")
    assert r.status_code == 409 and 'data-code="HANDOFF_LOCKED"' in r.text
    banner = r.text.split('data-testid="refusal"', 1)[1].split("</div>", 1)[0]
    assert "办理中" in visible_text(banner) and raw_codes(r.text) == []  # a sentence, not HANDOFF_LOCKED
    r = power.post("report", GRANTED)
    assert r.status_code == 409 and world.status(signing) == "open"
    clock.advance(timedelta(minutes=6))  # the lease ran out: the page may act
    assert power.post("accept").status_code == 303
    with pytest.raises(Exception) as late:
        external.complete(world.engine, partner, signing, task["lock_token"], {"granted": False, "reason": "迟"})
    assert getattr(late.value, "code", None) == "HANDOFF_CLOSED"
    assert world.events("partner_result") == []


def test_working_days_left_count_the_national_day_holiday(
    make_partner_world: Callable[..., PartnerWorld], clock: FixedClock
) -> None:
    # Pushed Monday 28 September 2026 with 5 working days: 29, 30 Sep, then 8, 9 and 10 Oct
    # (国庆 1–7 Oct off; Saturday 10 Oct a 调休 working day).
    clock.set(datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI))
    world = make_partner_world(["dianfei"])
    client = world.web.signed_in("lb_power")

    def days_left() -> str:
        shown = r'data-testid="days-left"><span class="state state-(\w+)">([^<]+)<'
        found = re.search(shown, client.get("/partner").text)
        assert found, "no working days left on the page"
        return f"{found.group(1)}:{found.group(2)}"

    assert "2026-10-10" in client.get("/partner").text
    clock.set(datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI))
    assert days_left() == "on_time:3 个工作日"  # ten calendar days, three working days
    clock.set(datetime(2026, 10, 9, 9, 0, tzinfo=SHANGHAI))
    assert days_left() == "warning:1 个工作日（即将到期）"
    clock.set(datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI))
    assert days_left() == "warning:今日到期（即将到期）"
    clock.set(datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI))  # Sunday 11 Oct is off again
    assert days_left() == "overdue:已逾期 1 个工作日"


def test_the_generic_task_page_sends_a_partner_to_its_handoff_page(power: PowerDesk) -> None:
    # The task page would neither audit the read nor respect a partner system's lease.
    r = power.client.get(f"/tasks/{power.handoff}")
    assert (r.status_code, r.headers["location"]) == (303, power.page)
    r = post(power.client, f"/tasks/{power.handoff}", power.page, {"f/partner_action": "签收"})
    assert r.status_code == 403 and "联办待办" in r.text
    assert power.world.status(power.handoff) == "open"


def test_a_long_tab_is_paged(make_partner_world: Callable[..., PartnerWorld], clock: FixedClock) -> None:
    world = make_partner_world(["dianfei"], JIUZHU_INBOX_PAGE_SIZE="1")
    clock.advance(timedelta(hours=1))
    Case(world.engine, clock).start(["dianfei"])
    client = world.web.signed_in("lb_power")
    first, second = client.get("/partner").text, client.get("/partner?tab=sign&page=2").text
    assert 'data-tab="sign">待签收 <span class="count">2</span>' in first and "共 2 件，第 1/2 页" in first
    assert 'href="/partner?tab=sign&page=2"' in first and "第 2/2 页" in second
    shown = [re.findall(r'data-handoff="([^"]+)"', page) for page in (first, second)]
    assert [len(ids) for ids in shown] == [1, 1] and shown[0] != shown[1]
    assert client.get("/partner?tab=nope").status_code == 422


def test_the_department_head_oversees_and_sees_the_overdue_items_督办(
    make_partner_world: Callable[..., PartnerWorld], clock: FixedClock
) -> None:
    world = make_partner_world()
    power_item = world.handoff("dianfei")
    head = world.web.signed_in("lbfz_power")
    assert 'data-testid="supervisions"' not in head.get("/partner").text
    clock.advance(timedelta(days=7))  # past 签收's 2 working days
    world.engine.fire_due_timers()
    page = head.get("/partner").text
    rows = re.findall(r'<tr data-supervised="([^"]+)">', page)
    assert rows == [power_item]  # 广电网络公司's late item is not this head's business
    section = page.split('data-testid="supervisions"')[1].split("</section>")[0]
    assert "电费减免" in section and "联办部门签收" in section and "联办部门负责人、乡镇审核人、县级民政局" in section
    liaison = world.web.signed_in("lb_power").get("/partner").text
    assert re.findall(r'<tr data-supervised="([^"]+)">', liaison) == [power_item]  # the liaison is told too
    detail = head.get(f"/partner/handoffs/{power_item}").text
    assert 'data-testid="oversight"' in detail and 'data-testid="actions"' not in detail
    assert post(head, f"/partner/handoffs/{power_item}/accept", "/partner").status_code == 403
    assert world.status(power_item) == "open"


def test_a_terminated_case_moves_its_open_handoffs_to_the_cancelled_tab(
    make_partner_world: Callable[..., PartnerWorld],
) -> None:
    world = make_partner_world(["dianfei"])
    power_item = world.handoff("dianfei")
    world.engine.terminate(world.case.instance_id, "申请人撤回申请", actor="mz_county")
    client = world.web.signed_in("lb_power")
    assert world.status(power_item) == "cancelled"
    assert f'data-handoff="{power_item}"' not in client.get("/partner?tab=sign").text
    cancelled = client.get("/partner?tab=cancelled").text
    assert f'data-handoff="{power_item}"' in cancelled
    assert re.search(r'data-tab="cancelled">已撤销 <span class="count">1</span>', cancelled)


def test_the_originating_township_and_the_county_see_the_督办_above_their_inbox(
    make_partner_world: Callable[..., PartnerWorld], clock: FixedClock
) -> None:
    world = make_partner_world(["dianfei"])
    reviewer = world.web.signed_in("sh_dongcheng")
    assert 'data-testid="supervisions"' not in reviewer.get("/inbox").text
    clock.advance(timedelta(days=7))
    world.engine.fire_due_timers()
    page = reviewer.get("/inbox").text
    section = page.split('data-testid="supervisions"')[1].split("</section>")[0]
    assert re.findall(r'<tr data-supervised="([^"]+)">', section) == [world.case.instance_id]
    assert "联办部门签收" in section and "乡镇审核人" in section and "供电公司" in section
    assert "县级民政局" not in section  # the county's row is the county's
    county = world.web.signed_in("mz_county").get("/inbox").text
    assert "县级民政局" in county.split('data-testid="supervisions"')[1].split("</section>")[0]
    assert 'data-testid="supervisions"' not in world.web.signed_in("sh_xiwan").get("/inbox").text


def test_partner_pages_look_like_the_caseworker_pages(power: PowerDesk) -> None:
    for path in ("/partner", power.page):
        page = power.client.get(path).text
        assert '<link rel="stylesheet" href="/static/case.css">' in page, path
        assert 'class="case-head"' in page and 'class="panel' in page, path
        assert 'class="inbox"' not in page and "partner-facts" not in page, path  # the caseworker tables
    listed = power.client.get("/partner").text
    assert '<table class="grid-table" data-testid="handoffs">' in listed
    detail = power.client.get(power.page).text
    assert '<dl class="kv">' in detail and 'class="button" data-testid="accept"' in detail
    assert 'class="button" data-testid="report"' in detail and 'class="button ghost" data-testid="return"' in detail
