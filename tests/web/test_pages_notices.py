"""不予确认 and approval notices as PDF: the text a reader extracts, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import BytesIO
from typing import Any

from pypdf import PdfReader

from engine.clock import FixedClock
from engine.service.facade import Engine
from integrations.partner import external, keys
from tests.support.partner_world import GRANTED, Case, deployed
from tests.support.web_support import WebWorld, make_world


def _decided(world: WebWorld, approval: dict[str, Any], **start: Any) -> str:
    data = {"applicant": {"name": "赵四", "id_number": "330102199001011234"}, **start}
    view = world.engine.start(
        "material_review", data, actor="xl_yangliu", org_unit="qinghe.dongcheng.yangliu", business_key="DB-2026-031"
    )
    iid = view.record.id
    for form in ({"applicant_name": "赵四", "household_size": 3}, {"materials_complete": True}, approval):
        view = world.engine.complete_task(iid, view.ready[0].id, form, actor="jb_dongcheng")
    assert view.record.status == "completed"
    return iid


def _text(body: bytes) -> str:
    reader = PdfReader(BytesIO(body))
    return "".join(page.extract_text() for page in reader.pages).replace(" ", "").replace("\n", "")


def test_rejection_notice_gives_reasons_legal_basis_and_appeal_rights(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url)
    reasons = ["家庭人均月收入高于当地低保标准", "拥有非居住类房产一套"]
    iid = _decided(world, {"approved": False}, rejection_reasons=reasons)
    client = world.signed_in("jb_dongcheng")
    r = client.get(f"/cases/{iid}/notices/rejection.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = _text(r.content)
    assert "最低生活保障不予确认通知书" in text and "赵四" in text
    assert "1.家庭人均月收入高于当地低保标准" in text and "2.拥有非居住类房产一套" in text
    assert "民发〔2021〕57号）第二十一条" in text
    assert "60日内向清河县人民政府申请行政复议" in text and "6个月内向清河县人民法院提起行政诉讼" in text
    assert "东城街道" in text and "2026年11月2日" in text and "清河县民政局（盖章）" in text
    # No approval was decided: that notice is refused, and a neighbour sees neither.
    assert client.get(f"/cases/{iid}/notices/approval.pdf").status_code == 409
    assert client.get(f"/cases/{iid}/notices/other.pdf").status_code == 404
    assert world.signed_in("jb_xiwan").get(f"/cases/{iid}/notices/rejection.pdf").status_code == 403


def test_approval_notice_gives_amount_start_month_and_certificate(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url)
    iid = _decided(world, {"approved": True, "monthly_amount": 1234.5}, certificate_no="清低保字2026第0031号")
    r = world.signed_in("jb_dongcheng").get(f"/cases/{iid}/notices/approval.pdf")
    assert r.status_code == 200
    text = _text(r.content)
    assert "最低生活保障确认通知书" in text and "月保障金额：1234.50元" in text
    assert "发放起始月份：2026年12月" in text  # the month after the decision
    assert "低保证编号：清低保字2026第0031号" in text and "保障人口：3人" in text
    page = world.signed_in("jb_dongcheng").get(f"/cases/{iid}").text
    assert "低保批准通知书" in page and "不予确认通知书" not in page


def test_happiness_notice_lists_every_item_result_for_the_applicant(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url)
    deployed(world.engine)
    case = Case(world.engine, clock)
    iid = case.start(["dianfei", "youxian"])
    client = world.signed_in("jb_dongcheng")
    assert client.get(f"/cases/{iid}/notices/happiness.pdf").status_code == 409  # items still out
    answers = {"供电公司": GRANTED, "广电网络公司": {"granted": False, "reason": "本户未开通有线电视"}}
    for department, report in answers.items():
        partner = keys.authenticate(world.engine, keys.create(world.engine, department, actor="admin"))
        [task] = external.fetch_and_lock(world.engine, partner, worker_id="w", lease=timedelta(minutes=5))
        external.complete(world.engine, partner, task["id"], task["lock_token"], report)
    assert 'notices/happiness.pdf"' in client.get(f"/cases/{iid}").text
    r = client.get(f"/cases/{iid}/notices/happiness.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = _text(r.content)
    assert "张秀英" in text and "联办事项2项，其中已享受1项、未享受1项" in text
    assert "（供电公司）：已享受，每月电费减免10千瓦时（5.00元/月）" in text
    assert "（广电网络公司）：未享受，原因：本户未开通有线电视" in text
    assert "清河县民政局（盖章）" in text
    assert world.signed_in("jb_xiwan").get(f"/cases/{iid}/notices/happiness.pdf").status_code == 403
