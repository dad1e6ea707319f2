"""Decision notices of real 低保 cases as PDF (the text a reader extracts), refusals, and the 幸福清单."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from engine.clock import FixedClock
from engine.service.facade import Engine
from integrations.partner import external, keys
from integrations.sql.store import SqlStore
from tests.support import decided_cases as dc
from tests.support.page_text import pdf_text
from tests.support.partner_world import GRANTED, Case, deployed
from tests.support.web_support import TOKEN, make_world


def test_confirmation_notice_of_a_real_dibao_case_names_household_amount_month_and_county(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    iid = dc.start(engine)
    dc.to_confirmation(engine, clock, iid)
    client = world.signed_in("jb_nanshan")
    # 公示 over, 审核确认 not yet done: neither notice prints.
    for kind in ("approval", "rejection"):
        r = client.get(f"/cases/{iid}/notices/{kind}.pdf")
        assert r.status_code == 409 and "本案件尚无可出具" in r.text and "决定环节办结后" in r.text
    dc.do(engine, iid, "db_county_confirm", dc.APPROVE, "mz_county")
    amount = engine.get(iid).data["monthly_amount"]
    r = client.get(f"/cases/{iid}/notices/approval.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    assert "最低生活保障确认通知书" in text and "周明：" in text
    assert f"月保障金额：{amount:.2f}元" in text and amount > 0
    assert "发放起始月份：2026年12月" in text  # decided in November: paid from the next month
    assert "低保证编号：QH-DB-2026-0031" in text and "审核确认机关：清河县民政局" in text
    assert "清河县民政局（盖章）" in text and "咨询电话：12349" in text
    assert client.get(f"/cases/{iid}/notices/rejection.pdf").status_code == 409
    assert world.signed_in("jb_xiwan").get(f"/cases/{iid}/notices/approval.pdf").status_code == 403


def test_rejection_notice_of_a_devolved_case_is_the_townships_with_reasons_and_appeal_rights(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    iid = dc.start(engine, region="CN-FJ-350100")  # 福建: 审核确认 devolved to the township
    assert dc.to_confirmation(engine, clock, iid) == "db_township_confirm"
    dc.do(engine, iid, "db_township_confirm", dc.REJECT, "sh_nanshan")
    client = world.signed_in("jb_nanshan")
    r = client.get(f"/cases/{iid}/notices/rejection.pdf")
    assert r.status_code == 200
    text = pdf_text(r.content)
    assert "最低生活保障不予确认通知书" in text and "周明：" in text
    assert "1.家庭人均月收入高于当地低保标准" in text
    assert "审核确认机关：南山乡人民政府" in text and "南山乡人民政府（盖章）" in text
    assert "民发〔2021〕57号）第二十一条" in text
    assert "60日内向清河县人民政府申请行政复议" in text and "6个月内向清河县人民法院提起行政诉讼" in text
    assert client.get(f"/cases/{iid}/notices/approval.pdf").status_code == 409
    assert client.get(f"/cases/{iid}/notices/other.pdf").status_code == 404


def test_start_data_naming_a_decision_cannot_make_a_notice_print(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    forged = {"approved": True, "confirmed": True, "decision": "同意", "monthly_amount": 99999, "certificate_no": "X"}
    client = world.signed_in("jb_nanshan")
    # Through the API, as a client would: the start data names every decision field.
    api = world.client()
    body = {"data": forged, "org_unit": dc.VILLAGE, "region": "CN"}
    started = api.post("/api/processes/dibao/instances", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert started.status_code == 422, started.text
    refused = started.json()
    assert refused["code"] == "START_DATA_UNDECLARED" and {p["field"] for p in refused["problems"]} == set(forged)
    assert engine.list_instances(process_id="dibao") == []  # nothing stored
    # A case started with what its start form declares stays undecided until 审核确认.
    iid = dc.start(engine)
    for kind in ("approval", "rejection"):
        assert client.get(f"/cases/{iid}/notices/{kind}.pdf").status_code == 409
    page = client.get(f"/cases/{iid}").text
    assert 'data-testid="decision-none"' in page and "notices/approval.pdf" not in page
    assert "99999" not in page.split('data-testid="decision"')[1].split("</section>")[0]


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
    text = pdf_text(r.content)
    assert "张秀英" in text and "联办事项2项，其中已享受1项、未享受1项" in text
    assert "（供电公司）：已享受，每月电费减免10千瓦时（5.00元/月）" in text
    assert "（广电网络公司）：未享受，原因：本户未开通有线电视" in text
    assert "清河县民政局（盖章）" in text
    assert world.signed_in("jb_xiwan").get(f"/cases/{iid}/notices/happiness.pdf").status_code == 403
