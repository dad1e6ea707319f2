"""Step definitions for ``features/dibao.feature`` (最低生活保障审核确认, Chinese Gherkin).

Every scenario runs four times, as the SLA scenarios do: SQLite with the
embedded scheduler, PostgreSQL with the Redis wake-up index, and each again
with a brand-new Engine for every step and every scheduler run ("restart"),
so each step goes through a save/restore round trip. See
:mod:`tests.support.dibao_world`. A label in 「」 is a BPMN element name, the
policy's name for a stage, or 「总时限」.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from engine.errors import FormValidationError
from engine.forms.validate import FormRef, validate_submission
from jiuzhu.demo_cases import ACCEPT, CHECK_INTAKE, INITIAL_REVIEW, START_INVESTIGATION, home_visit, relatives_filing
from tests.support.dibao_world import DibaoWorld, broken_connectors, connectors, model
from tests.support.sla_world import BACKENDS, Backend, open_world, restarts
from tests.support.yijianshi_world import START_SCHEMA

scenarios("dibao.feature")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture(autouse=True)
def world(backend: Backend, tmp_path: Path) -> Iterator[DibaoWorld]:
    # autouse, so that the backend parameters reach every generated scenario test
    yield from open_world(backend, tmp_path, make=DibaoWorld, model=model(), connectors=connectors())


_REGION = r"CN(?:-[A-Z0-9]+)*"

# -- 假如 / 当: set-up and time ------------------------------------------------------------------


@given("已加载时限政策并部署低保和“一件事”联办流程")
@restarts
def deployed(world: DibaoWorld) -> None:
    world.deploy()


# -- 当: the case ----------------------------------------------------------------------------------


def _start(world: DibaoWorld, family: str, place: str, region: str) -> None:
    # A village of the demo county is its org unit; elsewhere the place names itself.
    units = {"杨柳社区": "qinghe.dongcheng.yangliu", "上庄村": "qinghe.xiwan.shangzhuang"}
    units |= {"河畔社区": "qinghe.dongcheng.hepan", "下庄村": "qinghe.xiwan.xiazhuang"}
    units |= {"松林村": "qinghe.nanshan.songlin", "石桥村": "qinghe.nanshan.shiqiao"}
    world.start_case(family, units.get(place, place), region)


_APPLY = rf"「(?P<family>[^」]+)」家庭在「(?P<place>[^」]+)」（区划 (?P<region>{_REGION})）"


@when(parsers.re(_APPLY + r"通过(?P<channel>窗口|网上|村居代办)提交低保申请"))
@restarts
def applied(world: DibaoWorld, family: str, place: str, region: str, channel: str) -> None:
    _start(world, family, place, region)
    world.complete("db_apply", world.application(apply_channel=channel), actor="申请人")


def _spoil(form: dict[str, Any], change: str) -> None:
    members = form["members"]
    if change == "丈夫也登记为「本人」":
        members[1]["relationship"] = "本人"
    elif change == "儿子的身份证号与申请人相同":
        members[2] |= {k: members[0][k] for k in ("id_number", "sex", "birth_date")}
    elif change == "丈夫未签署授权核对声明":
        members[1].pop("authorised")
    elif change == "申请人身份证号末位改为 0":
        form["applicant"]["id_number"] = form["applicant"]["id_number"][:-1] + "0"
    elif change == "收款银行卡号末位加 1":
        card = form["bank_account"]["card_number"]
        form["bank_account"]["card_number"] = card[:-1] + str((int(card[-1]) + 1) % 10)
    else:
        raise AssertionError(f"看不懂的改动：{change}")


@when(parsers.re(_APPLY + r"提交低保申请，但(?P<change>.+)"))
@restarts
def applied_wrongly(world: DibaoWorld, family: str, place: str, region: str, change: str) -> None:
    _start(world, family, place, region)
    form = world.application()
    _spoil(form, change)
    world.try_complete("db_apply", form, actor="申请人")


@when("经办人受理申请")
@restarts
def accepted(world: DibaoWorld) -> None:
    world.complete("db_accept", ACCEPT, actor="乡镇经办人")


@when(parsers.re(r"经办人一次性告知需补正「(?P<materials>[^」]+)」"))
@restarts
def correction_asked(world: DibaoWorld, materials: str) -> None:
    world.complete("db_accept", {"accept_decision": "需补正", "missing_materials": materials}, actor="乡镇经办人")


@when("申请人补正材料后重新提交申请")
@restarts
def corrected(world: DibaoWorld) -> None:
    world.complete("db_correction", world.application(apply_channel="村居代办"), actor="申请人")


@when(parsers.re(r"经办人不予受理，理由「(?P<reason>[^」]+)」"))
@restarts
def not_accepted(world: DibaoWorld, reason: str) -> None:
    world.complete("db_accept", {"accept_decision": "不予受理", "not_accepted_reasons": reason}, actor="乡镇经办人")


@when(parsers.re(r"经办人单独登记备案，备案编号「(?P<no>[^」]+)」"))
@restarts
def relatives_filed(world: DibaoWorld, no: str) -> None:
    world.complete("db_register_relatives", relatives_filing(no), actor="乡镇经办人")


@when("经办人启动家庭经济状况调查")
@restarts
def investigation_started(world: DibaoWorld) -> None:
    world.complete("db_start_investigation", START_INVESTIGATION, actor="乡镇经办人")


@when("核对中心受理信息核对申请")
@restarts
def check_taken(world: DibaoWorld) -> None:
    world.complete("db_check_intake", CHECK_INTAKE, actor="县级核对中心")


@when("2 名调查人员完成入户调查")
@restarts
def visited(world: DibaoWorld) -> None:
    world.complete("db_home_visit", home_visit(world.today()), actor="乡镇经办人")


@when("乡镇审核人提出初审意见")
@restarts
def reviewed(world: DibaoWorld) -> None:
    world.complete("db_initial_review", INITIAL_REVIEW, actor="乡镇审核人")


@when("调查、核对和初审都已完成")
@restarts
def investigated_and_reviewed(world: DibaoWorld) -> None:
    if "db_register_relatives" in world.ready_elements():
        world.complete("db_register_relatives", relatives_filing("QH-BA-2026-001"), actor="乡镇经办人")
    world.complete("db_start_investigation", START_INVESTIGATION, actor="乡镇经办人")
    world.complete("db_check_intake", CHECK_INTAKE, actor="县级核对中心")
    world.complete("db_home_visit", home_visit(world.today()), actor="乡镇经办人")
    world.complete("db_initial_review", INITIAL_REVIEW, actor="乡镇审核人")


def _notice(world: DibaoWorld, evidence: str | None) -> None:
    form: dict[str, Any] = {"notified_on": world.today(), "disputed": evidence is not None}
    if evidence is not None:
        form["dispute_evidence"] = evidence
    world.complete("db_check_notice", form, actor="乡镇经办人")


@when("经办人告知核对结果，申请人无异议")
@restarts
def notified_undisputed(world: DibaoWorld) -> None:
    _notice(world, None)


@when(parsers.re(r"经办人告知核对结果，申请人有异议并提供证明「(?P<evidence>[^」]+)」"))
@restarts
def notified_disputed(world: DibaoWorld, evidence: str) -> None:
    _notice(world, evidence)


def _recheck(world: DibaoWorld, result: str) -> None:
    form = {"recheck_result": result, "recheck_explanation": "复核申请人提供的证明材料并重新查询"}
    world.complete("db_recheck", form, actor="县级核对中心")


@when(parsers.re(r"核对中心复查，结论「(?P<result>更正为符合|维持不符合)」"))
@restarts
def rechecked(world: DibaoWorld, result: str) -> None:
    _recheck(world, result)


@when(parsers.re(r"经办人告知核对结果，申请人有异议并提供证明「(?P<evidence>[^」]+)」，核对中心复查维持不符合"))
@restarts
def notified_and_upheld(world: DibaoWorld, evidence: str) -> None:
    _notice(world, evidence)
    _recheck(world, "维持不符合")


@when("核对平台暂时无法访问")
@restarts
def platform_down(world: DibaoWorld) -> None:
    world.engines.reconnect(broken_connectors())


@when("核对平台恢复后，管理员重试")
@restarts
def platform_back(world: DibaoWorld) -> None:
    world.engines.reconnect(connectors())
    world.engine().retry_incident(world.iid, {}, actor="管理员")


@then(parsers.re(r"案件因「(?P<label>[^」]+)」失败进入故障，提示包含「(?P<text>[^」]+)」"))
@restarts
def in_incident(world: DibaoWorld, label: str, text: str) -> None:
    view = world.engine().get(world.iid)
    assert view.record.status == "incident" and view.incident is not None, view.record.status
    assert view.incident.element_id == world.element(label) and text in view.incident.message, view.incident


@when("经办人登记公示无异议")
@restarts
def no_objection(world: DibaoWorld) -> None:
    world.complete("db_publicity_result", {"objection": False}, actor="乡镇经办人")


@when(parsers.re(r"经办人登记公示有异议「(?P<summary>[^」]+)」，处理方式「(?P<how>重新调查|民主评议)」"))
@restarts
def objection(world: DibaoWorld, summary: str, how: str) -> None:
    form = {"objection": True, "objection_summary": summary, "objection_handling": how}
    world.complete("db_publicity_result", form, actor="乡镇经办人")


@when(parsers.re(r"经办人组织民主评议，评议记录「(?P<no>[^」]+)」"))
@restarts
def democratic_review(world: DibaoWorld, no: str) -> None:
    form = {"minutes_no": no, "participants": 9, "conclusion": "经评议，务工收入已核实并计入，仍符合低保条件"}
    world.complete("db_democratic_review", form, actor="乡镇经办人")


@when("2 名调查人员重新调查")
@restarts
def reinvestigated(world: DibaoWorld) -> None:
    form = {
        "investigators": ["张经办", "王调查"],
        "visit_date": world.today(),
        "reinvestigation_findings": "走访务工单位，申请人仅短期零工，收入已如实申报",
    }
    world.complete("db_reinvestigate", form, actor="乡镇经办人")


@when("乡镇审核人重新提出初审意见")
@restarts
def reviewed_again(world: DibaoWorld) -> None:
    world.complete("db_review_again", {"initial_opinion": "异议经核实不成立，维持拟纳入低保的初审意见"}, "乡镇审核人")


@when("县级民政局 2 名工作人员入户核查")
@restarts
def county_visited(world: DibaoWorld) -> None:
    form = {
        "county_investigators": ["县民政局刘科长", "县民政局陈干事"],
        "county_visit_date": world.today(),
        "county_findings": "入户核实家庭情况与调查结论一致，备案的亲属关系不影响认定",
    }
    world.complete("db_county_visit", form, actor="县级民政局")


def _confirm_task(world: DibaoWorld) -> str:
    ready = world.ready_elements()
    found = [e for e in ("db_county_confirm", "db_township_confirm") if e in ready]
    assert found, f"没有审核确认待办；待办：{world.ready_names()}"
    return found[0]


@when(parsers.re(r"县级民政局审核确认同意，低保证编号「(?P<no>[^」]+)」"))
@restarts
def confirmed(world: DibaoWorld, no: str) -> None:
    world.complete(_confirm_task(world), {"decision": "同意", "certificate_no": no}, actor="县级民政局")


@when(parsers.re(r"县级民政局不予确认，理由「(?P<reason>[^」]+)」"))
@restarts
def rejected(world: DibaoWorld, reason: str) -> None:
    world.complete(_confirm_task(world), {"decision": "不予确认", "rejection_reasons": reason}, actor="县级民政局")


@when(parsers.re(r"经办人送达不予确认通知书，编号「(?P<no>[^」]+)」"))
@restarts
def notice_delivered(world: DibaoWorld, no: str) -> None:
    form = {"notice_no": no, "delivered_on": world.today(), "reasons_stated": True}
    world.complete("db_rejection_notice", form, actor="乡镇经办人")


@when(parsers.re(r"县级民政局批准延期，理由「(?P<reason>[^」]+)」"))
@restarts
def extended(world: DibaoWorld, reason: str) -> None:
    world.engine().extend_sla(
        world.iid, reason=reason, approver="县民政局王局长", approver_role="县级民政局", actor="县级民政局"
    )


# -- 那么 ------------------------------------------------------------------------------------------


@then(parsers.re(r"「(?P<label>[^」]+)」(?P<which>已|尚未)待办"))
@restarts
def task_ready(world: DibaoWorld, label: str, which: str) -> None:
    ready = world.element(label) in world.ready_elements()
    assert ready == (which == "已"), f"待办：{world.ready_names()}"


@then(parsers.re(r"信息核对结论为「(?P<verdict>符合|不符合)」，核对了 (?P<n>\d+) 名家庭成员"))
@restarts
def check_verdict_members(world: DibaoWorld, verdict: str, n: str) -> None:
    report = world.data()["hedui_report"]
    assert report["verdict"] == verdict, report
    assert len(report["findings"]["registration"]) == int(n), report["findings"]


@then(parsers.re(r"信息核对结论为「(?P<verdict>符合|不符合)」，理由包含「(?P<word>[^」]+)」"))
@restarts
def check_verdict_reason(world: DibaoWorld, verdict: str, word: str) -> None:
    report = world.data()["hedui_report"]
    assert report["verdict"] == verdict and any(word in r for r in report["reasons"]), report


@then(parsers.re(r"审计日志中恰好有 (?P<n>\d+) 条「(?P<type_>[a-z_]+)」事件"))
@restarts
def events_counted(world: DibaoWorld, n: str, type_: str) -> None:
    found = world.events(type_)
    assert len(found) == int(n), [e.payload for e in found]
    if type_ == "connector_called":
        assert all(e.payload["params"] and e.payload["response"] for e in found)


@then(parsers.re(r"保障金额为每月 (?P<amount>\d+(?:\.\d+)?) 元，计算依据「(?P<basis>[^」]+)」"))
@restarts
def amount_is(world: DibaoWorld, amount: str, basis: str) -> None:
    data = world.data()
    assert data["monthly_amount"] == float(amount), data["monthly_amount"]
    assert data["amount_basis"] == basis, data["amount_basis"]


@then(parsers.re(r"保障金自「(?P<month>\d{4}-\d{2})」起按月发放"))
@restarts
def payment_starts(world: DibaoWorld, month: str) -> None:
    assert world.data()["payment_start_month"] == month


def _children(world: DibaoWorld) -> list[Any]:
    engine = world.engine()
    return [
        r
        for r in engine.list_instances(process_id="yijianshi")
        if engine.get(r.id).data.get("parent_instance_id") == world.iid
    ]


@then(
    parsers.re(
        r"已为本户启动“一件事”联办：救助身份「(?P<status>[^」]+)」，救助证号「(?P<no>[^」]+)」，"
        r"月救助金额 (?P<amount>\d+) 元"
    )
)
@restarts
def yijianshi_started(world: DibaoWorld, status: str, no: str, amount: str) -> None:
    children = _children(world)
    assert len(children) == 1, children
    child, case = children[0], world.engine().get(world.iid)
    # The certificate number as it was given: no second prefix on top of the county's own ("DB-QH-DB-…").
    assert (child.org_unit, child.region, child.business_key) == (case.record.org_unit, case.record.region, no)
    start = world.data()["yijianshi_start"]
    schema = json.loads(START_SCHEMA.read_text(encoding="utf-8"))
    validate_submission(FormRef(START_SCHEMA.name, schema, None, None), start)  # what 联办 itself requires
    household = world.engine().get(child.id).data["household"]
    assert (household["status"], household["certificate_no"], household["benefit_amount"]) == (status, no, int(amount))
    assert household["household_id"] == no
    assert world.data()["yijianshi_case"]["instance_id"] == child.id
    assert [t.name for t in world.engine().get(child.id).ready] == ["确认联办事项清单"]


@then("“一件事”联办没有启动")
@restarts
def yijianshi_not_started(world: DibaoWorld) -> None:
    assert _children(world) == []


@then(parsers.re(r"申请被拒绝，「(?P<field>[^」]+)」提示「(?P<message>[^」]+)」"))
@restarts
def refused(world: DibaoWorld, field: str, message: str) -> None:
    assert isinstance(world.refusal, FormValidationError), f"申请没有被拒绝：{world.refusal!r}"
    errors = {fe.path: fe.message for fe in world.refusal.field_errors}
    assert errors.get(field) == message, errors
