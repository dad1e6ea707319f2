"""A 低保 approval fans out to 一件事联办 in headless Chromium, through the web
pages only: the county approves, the township confirms the 联办 item list of
the case the approval started, the power company signs and reports on its
/partner page, the township tells the family, and the 一件事 case shows the
幸福清单 with that result and prints it."""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import FixedClock
from integrations.sql import SqlStore
from tests.support.browser_support import chromium, serving
from tests.support.journey_dibao import (
    FAMILY,
    decided_by_the_county,
    linked_world,
)
from tests.support.journey_steps import Desk, collecting, do_task, open_case, pdf_text, shot

APPROVE = {"decision": "同意", "certificate_no": "QH-DB-2026-0102", "confirm_opinion": "符合条件，予以确认"}
BENEFIT = "每月电费减免10千瓦时"


def test_dibao_approval_starts_yijianshi_and_a_partner_reports_into_the_happiness_list(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = linked_world(make_store, clock, db_url)
    with serving(world.app) as base, chromium() as browser, collecting(Desk(browser, base)) as desk:
        handler, county = decided_by_the_county(desk, world, clock, APPROVE)

        # The 低保 case links to the 一件事 case its approval started.
        open_case(handler, base, FAMILY, "低保")
        handler.click("[data-testid=linked-case]")
        handler.wait_for_url(f"{base}/cases/*")
        assert "一件事" in handler.inner_text("[data-testid=case-title]")
        review = {"selected_items": ["dianfei"], "adjust_reason": "本户仅申请电费减免，其余事项另行办理"}
        do_task(handler, base, "确认联办事项清单", FAMILY, review)

        power = desk.as_user("lb_power")
        assert power.url == f"{base}/partner"
        power.click("[data-testid=handoffs] a:has-text('电费减免')")
        assert FAMILY in power.inner_text("[data-testid=household]")
        power.click("[data-testid=accept]")
        power.wait_for_selector("[data-testid=report-form]")
        power.check("input[name=granted][value=yes]")
        power.fill("input[name=benefit]", BENEFIT)
        power.fill("input[name=amount]", "5")
        power.select_option("select[name=amount_unit]", "元/月")
        power.click("[data-testid=report]")
        power.wait_for_url(f"{base}/partner?tab=completed")
        assert "已反馈「电费减免」的办理结果（享受）" in power.inner_text("main")
        shot(power, "yijianshi-partner")

        do_task(handler, base, "告知申请人办理结果", FAMILY, {"notify_channel": "纸质幸福清单"})
        open_case(handler, base, FAMILY, "一件事")
        assert handler.inner_text(".meta .badge") == "已办结"
        items = handler.inner_text("[data-testid=items-panel]")
        assert "电费减免" in items and "已享受" in items, items
        # 一件事 certifies nothing of its own: no 决定 panel that would read "尚未作出决定".
        assert handler.locator("[data-testid=decision]").count() == 0
        assert "联办事件 partner" not in handler.inner_text("main")  # the timeline speaks Chinese
        text = pdf_text(handler, "[data-testid=notice-happiness]", "yijianshi-happiness")
        shot(handler, "yijianshi")
    assert FAMILY in text and "电费减免" in text and BENEFIT in text and "5.00元/月" in text, text
