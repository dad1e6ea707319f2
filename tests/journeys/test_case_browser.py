"""In a real browser: the case page draws the instance's model with bpmn-js
(its own diagram interchange, lanes as bands), marks the
current task and the path taken; the dashboard draws its echarts chart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from engine.clock import FixedClock
from engine.service.facade import Engine
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.web_support import make_world
from tests.web.test_pages_case import HOUSEHOLD


def test_case_page_diagram_marks_position_and_path_and_dashboard_chart_draws(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url)
    # History for the dashboard: a stage closed on time, one closed late, an overdue case.
    on_time = world.start("qinghe.dongcheng.yangliu", name="按时户", key="DB-2026-0007")
    late = world.start("qinghe.dongcheng.hepan", name="迟办户", key="DB-2026-0011")
    for instance in (on_time, late):
        world.engine.complete_task(
            instance, world.task_of(instance), {"materials_complete": True}, actor="jb_dongcheng"
        )
    world.engine.complete_task(on_time, world.task_of(on_time), {}, actor="jb_dongcheng")
    clock.advance(timedelta(days=45))
    world.engine.complete_task(late, world.task_of(late), {}, actor="jb_dongcheng")
    view = world.engine.start(
        "sla_skeleton", HOUSEHOLD, actor="xl_yangliu", org_unit="qinghe.dongcheng.yangliu", region="CN",
        business_key="DB-2026-0042",
    )  # fmt: skip
    case = view.record.id
    view = world.engine.complete_task(case, view.ready[0].id, {"materials_complete": True}, actor="jb_dongcheng")
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "jb_dongcheng")
        page.goto(f"{base}/cases/{case}")
        page.wait_for_selector("#diagram[data-ready=true]", timeout=20000)
        assert errors == []
        current = page.locator("g.djs-element[data-element-id=start_investigation]")
        assert "jz-current" in (current.get_attribute("class") or "")
        done = page.locator("g.djs-element[data-element-id=accept_review]")
        assert "jz-done" in (done.get_attribute("class") or "")
        assert page.locator("g.djs-connection.jz-path").count() >= 2
        page.locator("#diagram").screenshot(path=screenshot_path("diagram"))
        assert page.locator("g.djs-element[data-element-id=start]").count() == 1
        assert "提交了「受理审查」" in page.inner_text("[data-testid=timeline]")
        assert "330102199001011234" in page.inner_text("[data-testid=applicant-id]")
        page.screenshot(path=screenshot_path("case-page"), full_page=True)

        page.goto(f"{base}/dashboard")
        page.wait_for_selector("#rate-chart[data-ready=true]", timeout=20000)
        assert page.locator("#rate-chart canvas").count() >= 1
        # Stage clocks closed, but no case here was decided (sla_skeleton has no decision task):
        # nothing is 办结 and there is no rate. Decided 低保 cases: tests/web/test_pages_dashboard.py.
        assert page.inner_text("[data-testid=rate]").strip() == "—"
        assert page.inner_text("[data-testid=closed]").strip() == "0"
        assert "迟办户" in page.inner_text("[data-testid=overdue]")
        page.screenshot(path=screenshot_path("dashboard"), full_page=True)
        page.goto(f"{base}/cases")
        page.screenshot(path=screenshot_path("case-list"), full_page=True)
        assert errors == []
