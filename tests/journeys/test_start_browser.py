"""新建申请 in a real browser: the village assistant signs in, opens 新建申请 from
the menu, starts a 低保 application for a demo household and lands on its
first task, the application form, with what was entered already filled in."""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import load_households
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.start_world import real_world

HOUSEHOLD = load_households()["王德顺"]  # 西湾镇 上庄村
VILLAGE_ASSISTANT = "xl_shangzhuang"  # 上庄村's 协理员 (demo/users.json)


def test_the_village_assistant_starts_a_dibao_application_in_the_browser(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    applicant = HOUSEHOLD["application"]["applicant"]
    user = VILLAGE_ASSISTANT
    wrong_id = applicant["id_number"][:-1] + ("0" if applicant["id_number"][-1] != "0" else "1")
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        sign_in(page, base, user)
        page.click("nav a:has-text('新建申请')")
        page.wait_for_url(f"{base}/cases/new")
        page.click("a[data-process=dibao]")
        page.wait_for_url(f"{base}/cases/new/dibao")
        assert "最低生活保障审核确认" in page.inner_text("[data-testid=start-title]")
        assert page.input_value("#org_unit") == HOUSEHOLD["org_unit"]
        page.fill("#jz-f-applicant-name", applicant["name"])
        page.fill("#jz-f-applicant-id_number", wrong_id)
        page.fill("#jz-f-applicant-mobile", applicant["mobile"])
        page.click("button:has-text('提交申请')")
        page.wait_for_selector("#jz-f-applicant-id_number-err")
        assert "校验码" in page.inner_text("#jz-f-applicant-id_number-err")
        assert page.input_value("#jz-f-applicant-name") == applicant["name"]
        assert world.engine.list_instances() == []
        page.fill("#jz-f-applicant-id_number", applicant["id_number"])
        page.screenshot(path=screenshot_path("start-form"), full_page=True)
        page.click("button:has-text('提交申请')")
        page.wait_for_url(f"{base}/tasks/*")
        [case] = world.engine.list_instances(process_id="dibao")
        [task] = world.engine.get(case.id).ready
        assert page.url == f"{base}/tasks/{task.id}" and task.element_id == "db_apply"
        assert page.inner_text("[data-testid=task-name]") == "填写低保申请"
        assert "已新建「最低生活保障审核确认」" in page.inner_text("main")
        assert (case.org_unit, case.started_by) == (HOUSEHOLD["org_unit"], user)
        assert page.input_value("#jz-f-applicant-name") == applicant["name"]
        assert page.input_value("#jz-f-applicant-id_number") == applicant["id_number"]
        page.screenshot(path=screenshot_path("start-first-task"), full_page=True)
