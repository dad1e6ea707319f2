"""试运行 in a real browser: a designer opens the 低保 draft (from the published
version), starts a dry run accepted on 2026-09-28, submits the application and the
acceptance with sample data, and sees the path on the diagram, the deadlines on the
working-day calendar (国庆 counted) and the audit events; then jumps to a deadline and
saves the run as a scenario. Screenshot: /tmp/studio-dryrun.png."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from playwright.sync_api import Page

from jiuzhu.demo_cases import ACCEPT, application, opening
from tests.support.browser_support import chromium, serving, sign_in
from tests.support.dry_run_world import DAY, FAMILY, UNIT, counts, dibao_studio
from tests.support.web_support import WebWorld

SHOT = "/tmp/studio-dryrun.png"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    yield from dibao_studio(tmp_path_factory)


def submit(page: Page, task: str, data: Mapping[str, Any], done: str) -> None:
    section = f"[data-testid=dry-run-state] [data-task={task}]"
    page.wait_for_selector(section)
    page.fill(f"{section} [data-testid=dry-run-task-data]", json.dumps(data, ensure_ascii=False))
    page.click(f"{section} button")
    page.wait_for_selector(f"[data-testid=dry-run-state] [data-task={done}]")


@pytest.mark.timeout(240)
def test_a_designer_dry_runs_the_dibao_draft_and_sees_deadlines_and_events(world: WebWorld) -> None:
    before = counts(world)
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1400})
        sign_in(page, base, "designer")
        page.goto(f"{base}/studio/dibao")
        page.wait_for_selector("#studio[data-ready=true]")
        page.click("a[data-tab=dryrun]")
        page.fill("[data-testid=dry-run-day]", DAY)
        page.fill("#studio-dry-run [data-part=unit]", UNIT)
        page.click("[data-testid=dry-run-begin]")
        page.wait_for_selector("[data-testid=dry-run-start-data]")
        sample = json.loads(page.inner_text("[data-testid=dry-run-start-data]"))
        assert sample["assistance_type"] == "低保"  # prefilled from the start form's defaults
        start = opening(FAMILY) | {"apply_channel": "窗口"}
        page.fill("[data-testid=dry-run-start-data]", json.dumps(start, ensure_ascii=False))
        page.click("[data-testid=dry-run-start]")
        submit(page, "db_apply", application(FAMILY, DAY) | {"apply_channel": "窗口"}, "db_accept")
        submit(page, "db_accept", ACCEPT, "db_start_investigation")

        status = page.inner_text("[data-testid=dry-run-status]")
        assert "已完成 2 步" in status and "2026年9月28日 星期一 9点" in status
        clocks = page.inner_text("[data-testid=dry-run-clocks]")
        assert "启动家庭经济状况调查" in clocks and "2026年10月8日（星期四）" in clocks
        assert "国庆节放假 2026-10-01 至 10-07" in clocks and "2026年11月13日（星期五）" in clocks
        assert "国庆节调休上班 2026-10-10" in clocks
        events = page.inner_text("[data-testid=dry-run-events]")
        assert "提交办理" in events and "受理审查" in events and "试运行" in events and "开始计时" in events
        # The path taken is drawn on the diagram, the waiting task marked apart.
        assert page.locator(".djs-element.dry-run-path").count() >= 4
        assert page.locator(".djs-element.dry-run-current[data-element-id=db_start_investigation]").count() == 1
        page.screenshot(path=SHOT, full_page=True)

        # 跳到期限: the investigation's deadline passes; the stage is now late.
        page.click("[data-testid=dry-run-jump]:has-text('启动家庭经济状况调查')")
        page.wait_for_function(
            "document.querySelector('[data-testid=dry-run-status]').textContent.includes('已完成 3 步')"
        )
        assert "2026年10月8日 星期四 24点" in page.inner_text("[data-testid=dry-run-now]")
        assert "时限预警" in page.inner_text("[data-testid=dry-run-events]")

        # 把这次试运行存为场景: appended to the draft's features/dibao.feature.
        page.fill("[data-testid=dry-run-scenario-name]", "浏览器中的试运行")
        page.click("[data-testid=dry-run-save]")
        page.wait_for_function("document.querySelector('[data-testid=dry-run-saved]').textContent.length > 0")
        saved = page.inner_text("[data-testid=dry-run-saved]")
        assert saved.strip().startswith("场景: 浏览器中的试运行") and "时间来到 2026年10月8日 星期四 24点" in saved
        assert "已存为场景「浏览器中的试运行」" in page.inner_text("[data-testid=dry-run-status]")
        assert "浏览器中的试运行" in page.evaluate("jiuzhuStudio.files['dibao.feature']")
    assert counts(world) == before  # the server's database never saw the run
