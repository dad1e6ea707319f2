"""Issue 5's acceptance run in a real browser, on the full 低保 process: the
application is filed with a wrong 身份证号 check digit, the field error shows
at that field with every typed value kept, the corrected form completes; the
township caseworker claims and completes 受理审查 from the inbox; the case page
marks the new position; a village user of another township is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from engine.clock import FixedClock
from engine.ports import Draft
from integrations.sql import SqlStore
from jiuzhu.demo_cases import application, load_households, opening
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.start_world import real_world
from tests.support.web_support import WebWorld

HOUSEHOLD = load_households()["刘桂芳"]  # 东城街道 杨柳社区
WRONG_ID = HOUSEHOLD["application"]["applicant"]["id_number"][:-1] + "7"  # check digit is 6
REASON = "丈夫去世，本人无固定收入，独自抚养子女"


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    return real_world(make_store, clock, db_url)


def _filed_by_the_village(world: WebWorld) -> str:
    """The case as the assistant opens it (the start form: channel and applicant),
    with the application saved as the assistant's draft but for the 申请理由."""
    start = opening(HOUSEHOLD)
    view = world.engine.start("dibao", start, actor="xl_yangliu", org_unit=HOUSEHOLD["org_unit"], region="CN")
    data: dict[str, Any] = application(HOUSEHOLD, "2026-03-02")
    del data["hardship_reason"]
    assert world.context.drafts is not None
    apply_task = _task(world, view.record.id, "db_apply")
    saved = Draft(apply_task, "xl_yangliu", data, world.engine.clock.now(), view.record.id)
    world.context.drafts.save(saved)
    return view.record.id


def _task(world: WebWorld, case: str, element: str) -> str:
    return next(t.id for t in world.engine.get(case).ready if t.element_id == element)


def _classes(page: Page, element: str) -> str:
    return page.locator(f"g.djs-element[data-element-id={element}]").get_attribute("class") or ""


def test_dibao_case_from_application_to_the_case_page(world: WebWorld) -> None:
    case = _filed_by_the_village(world)
    apply_task = _task(world, case, "db_apply")
    id_field, reason_field = "#jz-f-applicant-id_number", "#jz-f-hardship_reason"
    with serving(world.app) as base, chromium() as browser:
        village = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        sign_in(village, base, "xl_yangliu")
        village.goto(f"{base}/tasks/{apply_task}")
        village.click("button:has-text('认领')")
        village.wait_for_url(f"{base}/tasks/{apply_task}")
        village.fill(reason_field, REASON)
        village.fill("#jz-f-applicant-mobile", "13931000188")
        village.fill(id_field, WRONG_ID)
        village.click("button[value=submit]")
        village.wait_for_selector(f"{id_field}-err")
        assert "身份证号校验码不正确" in village.inner_text(f"{id_field}-err")
        assert village.input_value(id_field) == WRONG_ID
        assert village.input_value(reason_field) == REASON
        assert village.input_value("#jz-f-applicant-mobile") == "13931000188"
        assert village.input_value("#jz-f-applicant-name") == "刘桂芳"
        village.locator(f"{id_field}-err").scroll_into_view_if_needed()
        village.screenshot(path=screenshot_path("form-errors"))
        village.fill(id_field, HOUSEHOLD["application"]["applicant"]["id_number"])
        village.click("button[value=submit]")
        village.wait_for_url(f"{base}/inbox")
        assert world.engine.get(case).data["hardship_reason"] == REASON

        accept_task = _task(world, case, "db_accept")
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        sign_in(page, base, "jb_dongcheng")
        row = page.locator(f"tr[data-task='{accept_task}']")
        assert "刘桂芳" in row.inner_text() and "受理审查" in row.inner_text()
        page.screenshot(path=screenshot_path("inbox"), full_page=True)
        row.locator("input[name=task_ids]").check()
        page.click("button[formaction='/inbox/claim']")
        page.wait_for_url(f"{base}/inbox")
        page.click(f"tr[data-task='{accept_task}'] a")
        page.wait_for_url(f"{base}/tasks/{accept_task}")
        assert page.inner_text("[data-testid=task-name]") == "受理审查"
        page.select_option("#jz-f-accept_decision", "受理")
        page.fill("#jz-f-accept_opinion", "材料齐全，予以受理")
        page.click("button[value=submit]")
        page.wait_for_url(f"{base}/inbox")
        assert [t.element_id for t in world.engine.get(case).ready] == ["db_start_investigation"]

        page.goto(f"{base}/cases/{case}")
        page.wait_for_selector("#diagram[data-ready=true]", timeout=20000)
        assert "jz-current" in _classes(page, "db_start_investigation")
        assert "jz-done" in _classes(page, "db_accept") and "jz-done" in _classes(page, "db_apply")
        page.screenshot(path=screenshot_path("case-page"), full_page=True)

        other = browser.new_page(locale="zh-CN")
        sign_in(other, base, "xl_shangzhuang")
        refused = other.goto(f"{base}/cases/{case}")
        assert refused is not None and refused.status == 403
