"""In a real browser, as the 审计员 `audit`: open a 低保 case in 公示, its 案件历史,
and the event where 初审 was submitted; the household's data, the ready work and
the 公示 holding the token as they stood then, on the diagram of the case's own
deployed version."""

from __future__ import annotations

from pathlib import Path

from engine.clock import SHANGHAI, FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import (
    ACCEPT,
    CHECK_INTAKE,
    INITIAL_REVIEW,
    START_INVESTIGATION,
    application,
    home_visit,
    load_households,
)
from tests.conftest import START
from tests.support import decided_cases as dc
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in


def test_an_auditor_sees_the_case_as_it_stood_when_the_initial_review_was_submitted(tmp_path: Path) -> None:
    # One backend: the pages' own tests run SQLite and PostgreSQL.
    url = f"sqlite:///{tmp_path / 'jiuzhu.db'}"
    store = SqlStore.from_url(url)
    store.create_schema()
    clock = FixedClock(START)
    engine = dc.dibao_engine(store, clock)
    world = dc.dibao_web(engine, url)
    iid = dc.start(engine)
    today = clock.now().astimezone(SHANGHAI).date().isoformat()
    dc.do(engine, iid, "db_apply", application(load_households()[dc.FAMILY], today), "申请人")
    dc.do(engine, iid, "db_accept", ACCEPT, "jb_nanshan")
    dc.do(engine, iid, "db_start_investigation", START_INVESTIGATION, "jb_nanshan")
    dc.do(engine, iid, "db_check_intake", CHECK_INTAKE, "hd_center")
    dc.do(engine, iid, "db_home_visit", home_visit(today), "jb_nanshan")
    dc.do(engine, iid, "db_initial_review", INITIAL_REVIEW, "sh_nanshan")
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "audit")
        page.goto(f"{base}/cases")
        page.click(f"a[href='/cases/{iid}']")
        page.click("[data-testid=history]")
        page.wait_for_url(f"{base}/audit/cases/{iid}")
        assert "记录完整" in page.inner_text("[data-testid=chain-state]")
        row = page.locator("[data-testid=events] tr", has_text="提交了「初审」")
        assert row.count() == 1 and "乡镇审核人" in row.inner_text()
        row.locator("a").first.click()
        page.wait_for_url(f"{base}/audit/cases/{iid}/events/*")
        page.wait_for_selector("#diagram[data-ready=true]", timeout=20000)
        assert errors == []
        assert "提交办理" in page.inner_text("[data-testid=event-kind]")
        assert "db_initial_review" in page.inner_text("[data-testid=event-kind]")
        assert "乡镇审核人" in page.inner_text("[data-testid=event-who]")
        # The household's data as it stood: 周明 and his mother, with the numbers the auditor may see.
        household = page.inner_text("[data-testid=household]")
        assert "周明" in household and "周秀兰" in household and "139931195501250408" in household
        assert "拟纳入低保" in page.inner_text("[data-testid=changes]")
        # The ready work as it stood: no user task, the 公示 timer waiting and holding the token.
        ready = page.inner_text("[data-testid=ready-tasks]")
        assert "此时没有待办的人工任务" in ready and "公示7天" in page.inner_text("[data-testid=waiting]")
        assert page.inner_text("[data-testid=tokens]").strip() == "公示7天"
        publicity = page.locator("g.djs-element[data-element-id=db_publicity]")
        assert "jz-current" in (publicity.get_attribute("class") or "")
        review = page.locator("g.djs-element[data-element-id=db_initial_review]")
        assert "jz-done" in (review.get_attribute("class") or "")
        assert "jz-current" not in (review.get_attribute("class") or "")
        assert page.locator("g.djs-connection.jz-path").count() >= 8
        page.screenshot(path=screenshot_path("audit-history-event"), full_page=True)
        page.locator("#diagram").screenshot(path=screenshot_path("audit-history-diagram"))
        assert errors == []
