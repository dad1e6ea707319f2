"""临时救助 急难型 and 一事一议 end to end in headless Chromium, each step by the
person whose step it is (demo/users.json), through the web pages only."""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import SHANGHAI, FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import DEMO_DIVISION, jinan_report, load_households
from tests.support.browser_support import chromium, serving
from tests.support.journey_steps import (
    Desk,
    collecting,
    do_task,
    fill_form,
    open_case,
    pdf_text,
    shot,
    start_case,
    submit,
)
from tests.support.start_world import real_world

FAMILY = "孙丽"  # 南山乡 松林村
HOUSEHOLD = load_households()[FAMILY]
PERSON = HOUSEHOLD["application"]["applicant"]
NAMED = {"name": PERSON["name"], "id_number": PERSON["id_number"]}  # what a start form asks for
VILLAGE, HANDLER, REVIEWER = "xl_songlin", "jb_nanshan", "sh_nanshan"


def test_linshi_emergency_relief_first_then_the_paperwork(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    today = clock.now().astimezone(SHANGHAI).date().isoformat()
    with serving(world.app) as base, chromium() as browser, collecting(Desk(browser, base)) as desk:
        village = desk.as_user(VILLAGE)
        start_case(village, base, "linshi_jinan", {"person": NAMED})
        assert village.inner_text("[data-testid=task-name]") == "登记急难情况"
        fill_form(village, jinan_report(HOUSEHOLD, today, DEMO_DIVISION))
        submit(village, base, "登记急难情况")
        handler = desk.as_user(HANDLER)
        assess = {"decision": "先行救助", "assessment": "经入户核实，房屋部分过火，口粮衣被损毁，情况属实",
                  "relief_amount": 1500}  # fmt: skip
        do_task(handler, base, "评估并决定先行救助", FAMILY, assess)
        reviewer = desk.as_user(REVIEWER)
        do_task(reviewer, base, "审批先行救助", FAMILY, {"approved": True, "approval_opinion": "同意先行救助"})
        pay = {"payment_mode": "现金", "cash_channel": "当面发放", "paid_amount": 1500, "receipt_signed": True}
        do_task(handler, base, "先行救助发放", FAMILY, pay)
        do_task(village, base, "确认急难情况缓解", FAMILY, {"eased_description": "已借住亲戚家，生活基本恢复"})
        paperwork = {
            "situation_statement": "孙丽家中突发火灾，经评估先行救助现金1500元，已当面发放并签收",
            "confirmed_amount": 1500,
            "caseworker_signature": "陈志强",
            "approver_signature": "周敏",
            "seal_affixed": True,
            "materials": ["救助对象身份证明", "急难情况证明（诊断、火灾或事故证明等）", "救助款物签收单"],
        }
        do_task(handler, base, "补齐先行救助手续", FAMILY, paperwork)
        closing = {"review_opinion": "手续齐全，同意结案", "archive_no": "NS-LS-2026-012"}
        do_task(reviewer, base, "审核结案", FAMILY, closing)

        open_case(reviewer, base, FAMILY, "临时救助")
        assert reviewer.inner_text(".meta .badge") == "已办结"
        assert reviewer.inner_text("[data-testid=decision-amount]").startswith("1500.00")
        text = pdf_text(reviewer, "[data-testid=notice-approval]", "linshi-jinan")
        shot(reviewer, "linshi-jinan")
    assert "先行救助" in text and FAMILY in text and "1500.00" in text, text


MEMBER_UNITS = ["县民政局", "县财政局", "县医保局"]


def test_yishiyiyi_to_the_coordination_mechanisms_decision(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    today = clock.now().astimezone(SHANGHAI).date().isoformat()
    case = {
        "case_summary": "孙丽家遭遇火灾，住房严重损毁，申请一事一议救助 12000 元。",
        "referral_procedure": "临时救助（超出乡镇审批额度）",
        "referral_reference": "NS-LS-2026-012",
        "referring_org": "南山乡人民政府",
        "township_cap": 5000,
        "applicant": {
            **{k: PERSON[k] for k in ("name", "id_number", "sex", "birth_date", "mobile")},
            "address": PERSON["registered_address"],
        },
        "household_size": 1,
        "household_status": "其他困难家庭",
        "requested_amount": 12000,
        "hardship_reasons": ["火灾"],
        "reason_detail": "住房因火灾严重损毁，无力承担修缮和生活开支，所需救助超出乡镇审批额度。",
        "attachments": ["火灾事故认定书", "乡镇先行救助记录"],
    }
    convene = {
        "meeting_date": today,
        "meeting_place": "县政府第三会议室",
        "meeting_chair": "王副县长",
        "member_units_total": len(MEMBER_UNITS),
        "attending_units": MEMBER_UNITS,
        "quorum_rule": "过半数成员单位出席",
        "decision_rule": "出席单位过半数同意",
    }
    minutes = {"minutes_number": "清河困保协调纪要〔2026〕3号", "decided_amount": 10000, "payment_mode": "一次性发放",
               "decision_note": "同意给予一次性救助10000元"}  # fmt: skip
    with serving(world.app) as base, chromium() as browser, collecting(Desk(browser, base)) as desk:
        handler = desk.as_user(HANDLER)
        start_case(handler, base, "yishiyiyi", {"applicant": NAMED})
        assert handler.inner_text("[data-testid=task-name]") == "报送一事一议案卷"
        fill_form(handler, case)
        submit(handler, base, "报送一事一议案卷")
        do_task(desk.as_user("mz_county"), base, "召集协调机制会议", FAMILY, convene)
        member = desk.as_user("xt_member")
        for unit in MEMBER_UNITS:  # one opinion per attending unit, each task named with its unit
            do_task(member, base, f"成员单位出具意见（{unit}）", FAMILY, {"opinion": "同意", "suggested_amount": 10000})
        convener = desk.as_user("xt_convener")
        do_task(convener, base, "签发会议纪要（同意救助）", FAMILY, minutes)

        open_case(convener, base, FAMILY, "一事一议")
        assert convener.inner_text(".meta .badge") == "已办结"
        assert "协调机制" in convener.inner_text("[data-testid=decision-body]")
        assert convener.inner_text("[data-testid=decision-certificate]") == minutes["minutes_number"]
        timeline = convener.inner_text("[data-testid=timeline]")
        text = pdf_text(convener, "[data-testid=notice-approval]", "yishiyiyi")
        shot(convener, "yishiyiyi")
    assert all(f"提交了「成员单位出具意见（{unit}）」" in timeline for unit in MEMBER_UNITS), timeline
    # Referred by the township, not applied for: the notice says who brought the case.
    flat = text.replace(" ", "").replace("\n", "")
    assert "南山乡人民政府就你（户）的困难情况（原办理程序：临时救助（超出乡镇审批额度））提请" in flat, flat
    assert "提出的" not in flat and "清河救协〔2026〕第0001号" in flat
    assert "一事一议" in text and FAMILY in text and "10000.00" in text and minutes["minutes_number"] in text, text
