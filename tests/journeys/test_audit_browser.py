"""In a real browser, as 审计员 (``audit``): open 审计 from the menu, find a
低保 case by the applicant's 身份证号 and open it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.clock import FixedClock
from integrations.sql.store import SqlStore
from jiuzhu.demo_cases import load_households
from tests.support import decided_cases as dc
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the search's SQL runs on both in tests/web
def test_an_auditor_finds_a_dibao_case_by_id_number_and_opens_it(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    case = dc.start(engine)
    other = dc.start(engine, family="刘桂芳")
    id_number = load_households()[dc.FAMILY]["application"]["applicant"]["id_number"]
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "audit")
        page.click("header nav >> text=审计")
        page.fill("[data-testid=q-id-number]", id_number)
        page.click("[data-testid=audit-search-submit]")
        page.wait_for_selector("[data-testid=audit-results]")
        assert page.inner_text("[data-testid=audit-total]").startswith("共 1 件")
        results = page.inner_text("[data-testid=audit-results]")
        assert "周明" in results and "最低生活保障审核确认" in results and "刘桂芳" not in results
        assert page.locator(f'a[href="/audit/cases/{case}"]').count() >= 1  # the replay page (issue 15)
        assert page.locator(f'a[href="/cases/{other}"]').count() == 0
        page.screenshot(path=screenshot_path("audit-search"), full_page=True)
        page.click("[data-testid=case-open]")
        page.wait_for_url(f"{base}/cases/{case}")
        assert "周明" in page.inner_text("main")
        assert errors == []
