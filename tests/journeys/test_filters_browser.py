"""In a real browser, on the demo county's seeded cases (real procedures): a
township caseworker narrows the inbox by choosing a procedure and a village
from the filters (no codes typed), and a partner department's pages look like
the caseworkers'. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from engine.clock import FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import seed_demo_cases
from tests.support.browser_support import chromium, screenshot_path, serving
from tests.support.page_text import raw_codes
from tests.support.start_world import real_world
from tests.support.web_support import PASSWORD


def _sign_in(page: Page, base: str, username: str, lands_on: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{lands_on}")


def _units_listed(page: Page) -> set[str]:
    return {cell.strip() for cell in page.locator("[data-testid=inbox] tbody tr td:nth-child(7)").all_inner_texts()}


def test_inbox_filters_are_chosen_and_partner_pages_match(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    assert seed_demo_cases(world.engine)
    with serving(world.app) as base, chromium() as browser:
        errors: list[str] = []
        page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _sign_in(page, base, "jb_dongcheng", "/inbox")
        assert page.locator("input[name=process], input[name=org]").count() == 0
        assert _units_listed(page) == {"杨柳社区", "河畔社区"}
        assert page.inner_text("[data-testid=counts]").startswith("全部 2")
        options = page.locator("select[name=org] option").all_inner_texts()
        assert [o.replace("\u3000", "· ") for o in options] == ["全部单位", "东城街道", "· 河畔社区", "· 杨柳社区"]
        page.select_option("select[name=org]", label="\u3000杨柳社区")
        page.wait_for_url(lambda url: "org=qinghe.dongcheng.yangliu" in url)
        page.wait_for_function("() => ![...document.querySelectorAll('[data-testid=inbox] tbody tr td:nth-child(7)')]"
                               ".some(td => td.innerText.trim() === '河畔社区')")  # fmt: skip
        assert _units_listed(page) == {"杨柳社区"}
        assert page.inner_text("[data-testid=counts]").startswith("全部 1")  # the counts follow the filters
        page.select_option("select[name=process]", label="临时救助（急难型）")
        page.wait_for_url(lambda url: "process=linshi_jinan" in url)
        page.wait_for_selector("[data-testid=inbox] td:has-text('没有符合条件的待办')")
        page.select_option("select[name=process]", label="最低生活保障审核确认")
        page.wait_for_url(lambda url: "process=dibao" in url)
        page.wait_for_selector("[data-testid=inbox] td:nth-child(7):has-text('杨柳社区')")
        page.screenshot(path=screenshot_path("inbox-filters"), full_page=True)
        page.reload()  # the pushed URL opens the same choices
        assert page.locator("select[name=org]").input_value() == "qinghe.dongcheng.yangliu"
        assert page.locator("select[name=process]").input_value() == "dibao"

        partner = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
        partner.on("pageerror", lambda exc: errors.append(str(exc)))
        _sign_in(partner, base, "lb_power", "/partner")
        assert partner.locator("section.panel table.grid-table[data-testid=handoffs]").is_visible()
        partner.screenshot(path=screenshot_path("partner-inbox"), full_page=True)
        partner.locator("[data-testid=handoffs] tbody tr a").first.click()
        partner.wait_for_url(f"{base}/partner/handoffs/*")
        assert partner.locator("section.panel[data-testid=household] dl.kv").is_visible()
        assert raw_codes(partner.content()) == []
        partner.screenshot(path=screenshot_path("partner-handoff"), full_page=True)
        assert errors == []
