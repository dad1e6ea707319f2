"""低保 审核确认 end to end in headless Chromium, each step by the person whose
step it is (demo/users.json), through the web pages only: approved with its
确认通知书, refused with its 不予确认通知书, and a 公示 objection taken back
through 民主评议 and 重新初审."""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import FixedClock
from integrations.sql import SqlStore
from tests.support.browser_support import chromium, serving
from tests.support.journey_dibao import (
    COUNTY,
    FAMILY,
    HANDLER,
    HOUSEHOLD,
    REVIEWER,
    new_application,
    publicity_ends,
    to_publicity,
)
from tests.support.journey_steps import Desk, collecting, do_task, open_case, open_task, pdf_text, shot
from tests.support.start_world import real_world

APPROVE = {"decision": "同意", "certificate_no": "QH-DB-2026-0101", "confirm_opinion": "符合条件，予以确认"}
REASONS = "家庭人均月收入高于当地低保标准"
REJECT = {"decision": "不予确认", "rejection_reasons": REASONS}


def test_dibao_approved_with_its_confirmation_notice(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    with serving(world.app) as base, chromium() as browser, collecting(Desk(browser, base)) as desk:
        new_application(desk)
        to_publicity(desk, clock)
        handler = desk.as_user(HANDLER)
        handler.goto(f"{base}/inbox")
        assert "登记公示结果" not in handler.inner_text("main")  # the 公示 still runs
        publicity_ends(world, clock)
        do_task(handler, base, "登记公示结果", FAMILY, {"objection": False})
        county = desk.as_user(COUNTY)
        do_task(county, base, "县级审核确认", FAMILY, APPROVE)

        open_case(county, base, FAMILY, "低保")
        panel = county.inner_text("[data-testid=decision]")
        assert "同意" in panel or "确认" in panel, panel
        amount = county.inner_text("[data-testid=decision-amount]").split()[0]
        month = county.inner_text("[data-testid=decision-payment-start]")
        body = county.inner_text("[data-testid=decision-body]")
        text = pdf_text(county, "[data-testid=notice-approval]", "dibao-approved")
        shot(county, "dibao-approved")
    assert FAMILY in text and amount in text
    assert month.split("（")[0] in text, (month, text)
    assert body in text and "县" in body, (body, text)
    assert HOUSEHOLD["application"]["applicant"]["id_number"] not in text  # no full ID number on paper
