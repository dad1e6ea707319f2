"""In a real browser: the power company's user returns a 联办 item from its
联办待办 with a reason, the township caseworker corrects and resends it on the
task page, and the partner signs and reports it; the result lands in the case."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from engine.clock import FixedClock
from engine.service.facade import Engine
from tests.support.browser_support import chromium, screenshot_path, serving
from tests.support.partner_world import Case, deployed
from tests.support.web_support import PASSWORD, make_world
from tests.support.yijianshi_world import CORRECT

REASON = "电力户号与户主姓名不符，请核实"


def sign_in(page: Page, base: str, username: str, lands_on: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{lands_on}")


def test_partner_returns_then_signs_and_reports_a_handoff_in_the_browser(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url)
    deployed(world.engine)
    case = Case(world.engine, clock)
    case.start(["dianfei"])
    with serving(world.app) as base, chromium() as browser:
        errors: list[str] = []
        partner = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
        partner.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(partner, base, "lb_power", "/partner")
        assert "联办待办" in partner.inner_text("header nav")
        assert "待签收 1" in partner.inner_text("[data-testid=tabs]")
        partner.click("[data-testid=handoffs] a:has-text('电费减免')")
        assert "电力户号" in partner.inner_text("[data-testid=household]")
        partner.click("summary:has-text('退回民政核实补正')")
        partner.click("[data-testid=return]")  # the browser refuses an empty reason (required)
        assert "/partner/handoffs/" in partner.url
        partner.fill("textarea[name=reason]", REASON)
        partner.click("[data-testid=return]")
        partner.wait_for_url(f"{base}/partner?tab=returned")
        assert "已将「电费减免」退回民政核实补正" in partner.inner_text("main")

        caseworker = browser.new_context(locale="zh-CN").new_page()
        caseworker.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(caseworker, base, "jb_dongcheng", "/inbox")
        [correct] = case.ready(CORRECT)
        caseworker.goto(f"{base}/tasks/{correct.id}")
        caseworker.fill("#jz-f-correction_note", "已核实，户号无误，请重新办理")
        caseworker.click("[data-testid=task-form] button[name='f:action'][value=submit]")
        caseworker.wait_for_url(f"{base}/inbox")
        assert "已办理「民政核实补正」" in caseworker.inner_text("main")

        partner.goto(f"{base}/partner")
        row = partner.locator("[data-testid=handoffs] tr[data-item=dianfei]")
        assert "第 2 轮" in row.inner_text() and REASON in row.inner_text()
        row.locator("a").click()
        assert REASON in partner.inner_text("[data-testid=returns]")
        partner.click("[data-testid=accept]")
        partner.wait_for_selector("[data-testid=report-form]")
        assert "已签收「电费减免」" in partner.inner_text("main")
        partner.check("input[name=granted][value=yes]")
        partner.fill("input[name=benefit]", "每月电费减免10千瓦时")
        partner.fill("input[name=amount]", "5")
        partner.select_option("select[name=amount_unit]", "元/月")
        partner.screenshot(path=screenshot_path("partner-handoff"), full_page=True)
        partner.click("[data-testid=report]")
        partner.wait_for_url(f"{base}/partner?tab=completed")
        assert "已反馈「电费减免」的办理结果（享受）" in partner.inner_text("main")
        assert partner.locator("[data-testid=handoffs] tr[data-item=dianfei]").count() == 1  # the item, once
        assert "已办结 1" in partner.inner_text("[data-testid=tabs]")
        partner.screenshot(path=screenshot_path("partner-inbox"), full_page=True)
        assert errors == []

    listing = {row["code"]: row for row in case.notify()["happiness_list"]}
    assert listing["dianfei"]["status"] == "已享受" and listing["dianfei"]["rounds"] == 2
    assert [e.payload["reason"] for e in world.engine.events(case.instance_id) if e.type == "partner_returned"] == [
        REASON
    ]
    assert [e.actor for e in world.engine.events(case.instance_id) if e.type == "partner_result"] == ["lb_power"]
