"""低保 审核确认 end to end in headless Chromium, each step by the person whose
step it is (demo/users.json), through the web pages only: approved with its
确认通知书, refused with its 不予确认通知书, and a 公示 objection taken back
through 民主评议 and 重新初审."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from engine.clock import FixedClock
from integrations.sql import SqlStore
from tests.conftest import ROOT
from tests.support.browser_support import chromium, serving
from tests.support.journey_dibao import (
    COUNTY,
    FAMILY,
    HANDLER,
    HOUSEHOLD,
    REVIEWER,
    decided_by_the_county,
    new_application,
    publicity_ends,
    to_publicity,
    today,
)
from tests.support.journey_steps import Desk, collecting, do_task, open_case, open_task, pdf_text, shot
from tests.support.start_world import real_world

# 机关代字〔年份〕第NNNN号 (demo/notices.json document_prefixes), as the notice prints it.
NUMBER = re.compile(r"清河民救〔(\d{4})〕第(\d{4})号")
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
    assert NUMBER.findall(text.replace(" ", "").replace("\n", "")) == [("2026", "0001")] * 2  # notice and 送达回证
    assert HOUSEHOLD["application"]["applicant"]["id_number"] not in text  # no full ID number on paper


def test_dibao_refused_with_its_rejection_notice(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    notices = json.loads((ROOT / "demo" / "notices.json").read_text(encoding="utf-8"))
    with serving(world.app) as base, chromium() as browser, collecting(Desk(browser, base)) as desk:
        handler, county = decided_by_the_county(desk, world, clock, REJECT)

        # The township prints the notice from the case page, then records its delivery.
        open_case(handler, base, FAMILY, "低保")
        assert "不予确认" in handler.inner_text("[data-testid=decision-outcome]")
        assert handler.locator("[data-testid=notice-approval]").count() == 0
        text = pdf_text(handler, "[data-testid=notice-rejection]", "dibao-rejected")
        # The 送达 records the 文号 printed on the notice and its 送达回证.
        printed = NUMBER.search(text.replace(" ", "").replace("\n", ""))
        assert printed is not None, text
        delivered = {"notice_no": printed.group(0), "delivered_on": today(clock), "reasons_stated": True}
        do_task(handler, base, "送达不予确认通知书", FAMILY, delivered)
        open_case(handler, base, FAMILY, "低保")
        assert handler.inner_text(".meta .badge") == "已办结"
        assert "不予确认" in handler.inner_text("[data-testid=timeline]")
        shot(handler, "dibao-rejected")
    assert "不予确认通知书" in text and FAMILY in text and REASONS in text
    assert notices["review_body"] in text and notices["court"] in text
    assert "行政复议" in text and "行政诉讼" in text


def test_dibao_publicity_objection_goes_to_democratic_review_and_a_second_initial_review(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    with serving(world.app) as base, chromium() as browser, collecting(Desk(browser, base)) as desk:
        new_application(desk)
        to_publicity(desk, clock)
        publicity_ends(world, clock)
        handler = desk.as_user(HANDLER)
        objection = {"objection": True, "objection_summary": "有村民反映其子女在外务工，收入未如实申报",
                     "objection_handling": "民主评议"}  # fmt: skip
        do_task(handler, base, "登记公示结果", FAMILY, objection)
        review = {"minutes_no": "SZC-PY-2026-03", "participants": 9,
                  "conclusion": "经评议，其子女已另立户且无赡养能力，异议不成立"}  # fmt: skip
        do_task(handler, base, "民主评议", FAMILY, review)
        reviewer = desk.as_user(REVIEWER)
        again = {"initial_opinion": "民主评议认定异议不成立，维持拟纳入低保的初审意见"}
        do_task(reviewer, base, "重新初审", FAMILY, again)
        county = desk.as_user(COUNTY)
        open_task(county, base, "县级审核确认", FAMILY)  # the next decision task is the county's
        open_case(county, base, FAMILY, "低保")
        timeline = county.inner_text("[data-testid=timeline]")
        assert "提交了「民主评议」" in timeline and "提交了「重新初审」" in timeline, timeline
        assert county.locator("[data-testid=decision-none]").is_visible()
        shot(county, "dibao-objection")
