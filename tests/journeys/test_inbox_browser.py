"""In a real browser: a township caseworker signs in, sees the inbox, claims
a task and opens it; a village user of another township gets 403."""

from __future__ import annotations

from collections.abc import Callable

from engine.service.facade import Engine
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.web_support import make_world


def test_caseworker_claims_and_opens_a_task_village_of_another_township_is_refused(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url)
    case = world.start("qinghe.dongcheng.yangliu", name="林大山", key="DB-2026-0042")
    task = world.task_of(case)
    world.start("qinghe.xiwan.shangzhuang", name="邻镇李四")
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        sign_in(page, base, "jb_dongcheng")
        assert page.inner_text("[data-testid=current-user]") == "王建国"
        row = page.locator(f"tr[data-task='{task}']")
        assert "林大山" in row.inner_text() and "3301**********1234" in row.inner_text()
        assert "邻镇李四" not in page.inner_text("[data-testid=inbox]")
        page.screenshot(path=screenshot_path("inbox"), full_page=True)
        row.locator("input[name=task_ids]").check()
        page.click("button[formaction='/inbox/claim']")
        page.wait_for_url(f"{base}/inbox")
        assert "已认领 1 件" in page.inner_text("main")
        assert "我" in page.locator(f"tr[data-task='{task}']").inner_text()
        page.click(f"tr[data-task='{task}'] a")
        page.wait_for_url(f"{base}/tasks/{task}")
        assert page.inner_text("[data-testid=task-name]") == "受理审查"
        assert page.locator("[data-testid=task-form]").is_visible()
        page.screenshot(path=screenshot_path("task"), full_page=True)
        assert world.engine.ready_task(task).assignee == "jb_dongcheng"

        village = browser.new_page(locale="zh-CN")
        sign_in(village, base, "xl_shangzhuang")
        refused = village.goto(f"{base}/tasks/{task}")
        assert refused is not None and refused.status == 403
        assert "无权" in village.inner_text("main")
        assert village.request.get(f"{base}/api/instances/{case}").status == 403
        village.screenshot(path=screenshot_path("forbidden"), full_page=True)
