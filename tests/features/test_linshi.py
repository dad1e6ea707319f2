"""Step definitions for the 临时救助 acceptance scenarios in ``features/linshi_jinan.feature`` (Chinese Gherkin).

Every scenario runs twice on SQLite: straight, and with a brand-new Engine (new
store, same database) for every step and every scheduler run ("restart"), so
each step goes through a save/restore round trip. Time moves as in
:mod:`tests.support.sla_world`. A label in 「」 is a BPMN element name, the policy's
name for a stage, or 「总时限」 for the overall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from engine.clock import SHANGHAI
from engine.errors import FormValidationError
from tests.support.linshi_world import (
    JINAN,
    ROSTER,
    ZHICHU,
    Emergency,
    LinshiWorld,
    deployed_template,
    open_linshi_world,
)
from tests.support.sla_world import restarts

scenarios("linshi_jinan.feature")


@pytest.fixture(params=[pytest.param(False, id="sqlite"), pytest.param(True, id="sqlite-restart")])
def restart(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return deployed_template(tmp_path_factory.mktemp("linshi-template"))


@pytest.fixture(autouse=True)
def world(restart: bool, tmp_path: Path, template: Path) -> Iterator[LinshiWorld]:
    # autouse, so that the lifecycle parameter reaches every generated scenario test
    yield from open_linshi_world(restart, tmp_path, template)


def _amount(text: str) -> int | float:
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


_REGION = r"CN(?:-[A-Z0-9]+)+"
_EVENT = r"火灾|交通事故|突发重大疾病|自然灾害|其他意外事件"
_REPORT = (
    rf"(?P<reporter>本人|家属|村\(社区\)|救助顾问)报告：(?P<person>[^（]+)（户籍 (?P<hukou>{_REGION})）"
    rf"在(?P<place>[^（]+)（区划 (?P<region>{_REGION})）遭遇(?P<event>{_EVENT})"
)
_AMOUNT = r"-?\d+(?:\.\d+)?"

# -- 假如 / 当: set-up and time ------------------------------------------------------------------


@given("已加载临时救助时限政策并部署临时救助流程")
@restarts
def deployed(world: LinshiWorld) -> None:
    world.deploy()


# -- 急难型: report, decision, payment, paperwork ------------------------------------------------


def _today(world: LinshiWorld) -> date:
    return world.clock.now().astimezone(SHANGHAI).date()


def _report(world: LinshiWorld, emergency: Emergency) -> dict[str, Any]:
    world.start_case(JINAN, emergency.region, org_unit=emergency.place)
    return emergency.form(_today(world))


@when(parsers.re(_REPORT))
@restarts
def reported(world: LinshiWorld, reporter: str, person: str, hukou: str, place: str, region: str, event: str) -> None:
    form = _report(world, Emergency(reporter, person, hukou, place, region, event))
    world.complete("register", form, actor=f"{reporter}报告，村(社区)协理员登记")


@when(parsers.re(_REPORT + r"，但登记的身份证号为「(?P<id_number>[^」]+)」"))
@restarts
def reported_wrongly(
    world: LinshiWorld, reporter: str, person: str, hukou: str, place: str, region: str, event: str, id_number: str
) -> None:
    form = _report(world, Emergency(reporter, person, hukou, place, region, event))
    form["person"]["id_number"] = id_number
    world.try_complete("register", form, actor="村(社区)协理员")


@when("村(社区)协理员改正身份证号后重新登记")
@restarts
def report_corrected(world: LinshiWorld) -> None:
    record = world.engine().get(world.iid).record
    emergency = Emergency("村(社区)", "王建国", "CN-GS-LZ", record.org_unit or "", record.region or "", "火灾")
    form = emergency.form(_today(world))
    world.complete("register", form, actor="村(社区)协理员")


def _assessment(amount: str) -> dict[str, Any]:
    return {"decision": "先行救助", "assessment": "经入户核实情况属实，急需救助", "relief_amount": _amount(amount)}


@when(parsers.re(rf"经办人决定先行救助 (?P<amount>{_AMOUNT}) 元"))
@restarts
def relief_decided(world: LinshiWorld, amount: str) -> None:
    world.complete("assess", _assessment(amount), actor="乡镇经办人")


@when(parsers.re(rf"经办人试图决定先行救助 (?P<amount>{_AMOUNT}) 元"))
@restarts
def relief_attempted(world: LinshiWorld, amount: str) -> None:
    world.try_complete("assess", _assessment(amount), actor="乡镇经办人")


@when(parsers.re(r"经办人决定不予救助，理由「(?P<reason>[^」]+)」"))
@restarts
def relief_refused(world: LinshiWorld, reason: str) -> None:
    data = {"decision": "不予救助", "assessment": "经核实不属于急难情形", "refusal_reason": reason}
    world.complete("assess", data, actor="乡镇经办人")


@when("乡镇审核人同意先行救助")
@restarts
def relief_approved(world: LinshiWorld) -> None:
    world.complete("approve", {"approved": True, "approval_opinion": "同意"}, actor="乡镇审核人")


@when(parsers.re(r"乡镇审核人不同意，意见「(?P<opinion>[^」]+)」"))
@restarts
def relief_sent_back(world: LinshiWorld, opinion: str) -> None:
    world.complete("approve", {"approved": False, "approval_opinion": opinion}, actor="乡镇审核人")


def _pay(world: LinshiWorld, data: dict[str, Any]) -> None:
    world.complete("pay", {**data, "receipt_signed": True}, actor="乡镇经办人")


@when(parsers.re(rf"经办人以现金当面发放 (?P<amount>{_AMOUNT}) 元"))
@restarts
def paid_cash(world: LinshiWorld, amount: str) -> None:
    _pay(world, {"payment_mode": "现金", "cash_channel": "当面发放", "paid_amount": _amount(amount)})


@when(parsers.re(rf"经办人发放实物（(?P<items>[^）]+)），折合 (?P<amount>{_AMOUNT}) 元"))
@restarts
def paid_in_kind(world: LinshiWorld, items: str, amount: str) -> None:
    _pay(world, {"payment_mode": "实物", "in_kind_items": items, "paid_amount": _amount(amount)})


@when(parsers.re(rf"经办人转介至「(?P<to>[^」]+)」，折合 (?P<amount>{_AMOUNT}) 元"))
@restarts
def referred(world: LinshiWorld, to: str, amount: str) -> None:
    _pay(world, {"payment_mode": "转介", "referral_to": to, "paid_amount": _amount(amount)})


@when("村(社区)协理员确认急难情况已缓解")
@restarts
def eased(world: LinshiWorld) -> None:
    world.complete("confirm_eased", {"eased_description": "已出院回家，生活基本恢复"}, actor="村(社区)协理员")


@when("经办人补齐手续")
@restarts
def paperwork_done(world: LinshiWorld) -> None:
    data = world.data()
    statement = f"{data['person']['name']}遭遇{data['event_type']}，已先行救助{data['paid_amount']}元"
    form = {
        "situation_statement": f"{statement}（{data['payment_mode']}）",
        "confirmed_amount": data["paid_amount"],
        "caseworker_signature": "张经办",
        "approver_signature": "李审核",
        "seal_affixed": True,
        "materials": ["救助对象身份证明", "救助款物签收单", "临时救助审批表"],
    }
    world.complete("paperwork", form, actor="乡镇经办人")


@when("乡镇审核人审核结案")
@restarts
def reviewed(world: LinshiWorld) -> None:
    world.complete("review", {"review_opinion": "手续齐全，同意结案", "archive_no": "LS-2026-001"}, actor="乡镇审核人")


# -- 支出型 ------------------------------------------------------------------------------------


@when(
    parsers.re(
        rf"(?P<place>[^（「」]+)（区划 (?P<region>{_REGION})）受理(?P<person>[^的]+)的支出型临时救助申请"
        rf"（(?P<category>医疗|教育|其他必需)支出 (?P<amount>{_AMOUNT}) 元）"
    )
)
@restarts
def zhichu_applied(world: LinshiWorld, place: str, region: str, person: str, category: str, amount: str) -> None:
    world.start_case(ZHICHU, region, org_unit=place)
    who = ROSTER[person]
    form = {
        "applicant": {k: who[k] for k in ("name", "id_number", "sex", "birth_date", "mobile")},
        "household_size": 2,
        "expense_category": category if category != "其他必需" else "其他必需支出",
        "expense_amount": _amount(amount),
        "household_monthly_income": 1800,
        "description": f"{person}家庭因{category}支出骤增，超出家庭承受能力",
        "commitment_signed": True,
        "authorization_signed": True,
    }
    world.complete("zc_apply", form, actor=person)


@when(parsers.re(rf"经办人调查核实：符合条件，拟救助 (?P<amount>{_AMOUNT}) 元"))
@restarts
def zhichu_eligible(world: LinshiWorld, amount: str) -> None:
    form = {
        "investigators": ["张经办", "王协理"],
        "findings": "入户核实，医疗票据属实，家庭无大额存款",
        "eligible": True,
        "proposed_amount": _amount(amount),
    }
    world.complete("zc_investigate", form, actor="乡镇经办人")


@when(parsers.re(r"经办人调查核实：不符合条件，理由「(?P<reason>[^」]+)」"))
@restarts
def zhichu_ineligible(world: LinshiWorld, reason: str) -> None:
    form = {"investigators": ["张经办", "王协理"], "findings": "入户核实并经信息核对", "eligible": False}
    world.complete("zc_investigate", {**form, "ineligible_reason": reason}, actor="乡镇经办人")


@when(parsers.re(rf"县级民政局批准救助 (?P<amount>{_AMOUNT}) 元"))
@restarts
def zhichu_approved(world: LinshiWorld, amount: str) -> None:
    form = {"approved": True, "approved_amount": _amount(amount), "decision_opinion": "公示无异议，同意"}
    world.complete("zc_decide", form, actor="县级民政局")


@when(parsers.re(r"县级民政局不予批准，意见「(?P<opinion>[^」]+)」"))
@restarts
def zhichu_rejected(world: LinshiWorld, opinion: str) -> None:
    world.complete("zc_decide", {"approved": False, "decision_opinion": opinion}, actor="县级民政局")


# -- 那么: the case ------------------------------------------------------------------------------


@then(parsers.re(r"本案由急难发生地「(?P<place>[^」]+)」受理"))
@restarts
def handled_where_it_happened(world: LinshiWorld, place: str) -> None:
    assert world.org_unit() == place
    assert world.data()["township"] == place


@then(parsers.re(r"系统记录救助对象户籍(?P<which>不在|在)急难发生地所在省份"))
@restarts
def hukou_recorded(world: LinshiWorld, which: str) -> None:
    assert world.data()["hukou_elsewhere"] is (which == "不在"), world.data()


@then(parsers.re(r"急难发生地月低保标准为 (?P<standard>\d+) 元，乡镇审批额度为 (?P<cap>\d+) 元"))
@restarts
def limits_are(world: LinshiWorld, standard: str, cap: str) -> None:
    data = world.data()
    assert (data["dibao_standard"], data["quick_multiple"], data["township_cap"]) == (int(standard), 1, int(cap)), data


@then(parsers.re(r"审批权限为「(?P<name>[^」]+)」"))
@restarts
def route_is(world: LinshiWorld, name: str) -> None:
    assert world.data()["route_name"] == name, world.data().get("route_name")


@then(parsers.re(r"补手续逾期标记为(?P<value>是|否)"))
@restarts
def paperwork_late_is(world: LinshiWorld, value: str) -> None:
    assert world.element("审核结案") in world.ready_elements(), f"待办：{world.ready_names()}"
    assert world.data().get("paperwork_late") is (value == "是"), world.data().get("paperwork_late")


@then(
    parsers.re(
        r"一事一议提请材料：申请金额 (?P<amount>\d+) 元，乡镇审批额度 (?P<cap>\d+) 元，提请来源「(?P<source>[^」]+)」"
    )
)
@restarts
def yishiyiyi_request(world: LinshiWorld, amount: str, cap: str, source: str) -> None:
    request = world.data()["yishiyiyi_request"]
    assert (request["requested_amount"], request["township_cap"]) == (int(amount), int(cap)), request
    assert request["referral_procedure"] == source, request
    assert request["applicant"]["id_number"] == world.data()["person"]["id_number"], request
    assert request["hardship_reasons"], request


@then(parsers.re(r"(?P<what>登记|决定)被拒绝，「(?P<field>[^」]+)」提示「(?P<message>[^」]+)」"))
@restarts
def refused(world: LinshiWorld, what: str, field: str, message: str) -> None:
    assert isinstance(world.refusal, FormValidationError), f"{what}没有被拒绝：{world.refusal!r}"
    errors = {fe.path: fe.message for fe in world.refusal.field_errors}
    assert errors.get(field) == message, errors


# -- 那么: clocks, events, timers, supervision ---------------------------------------------------
