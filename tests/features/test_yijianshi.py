"""Step definitions for ``features/yijianshi.feature`` (社会救助"一件事"联办, Chinese Gherkin),
plus the checks on the catalogue, its JSON schema, the forms and the SLA policy.

Every scenario runs twice on SQLite: straight, and with a brand-new Engine
(new store, same database) at every step and at every partner's completion
inside a step ("restart"), so each round trip goes through the stored state.
See :mod:`tests.support.yijianshi_world`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pytest_bdd import given, parsers, scenarios, then, when

from engine.errors import FormValidationError
from engine.forms.validate import FormRef, validate_submission
from engine.sla.policy import load_policy
from tests.conftest import FORMS
from tests.support.sla_world import parse_day, restarts, show, show_day
from tests.support.yijianshi_world import (
    CASEWORKER,
    CATALOGUE_FILE,
    CATALOGUE_SCHEMA,
    CORRECT,
    HOUSEHOLDS,
    NOTIFY,
    PARTNER_LANE,
    POLICY,
    RESULT,
    REVIEW,
    SIGN,
    START_SCHEMA,
    Catalogue,
    Task,
    YijianshiWorld,
    open_world,
)

scenarios("yijianshi.feature")


@pytest.fixture
def restart() -> bool:
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Scenarios run in both lifecycles; the plain data tests below once.
    if "_pytest_bdd_example" in metafunc.fixturenames:
        metafunc.parametrize("restart", [False, True], ids=["sqlite", "sqlite-restart"])


@pytest.fixture(autouse=True)
def world(restart: bool, tmp_path: Path) -> Iterator[YijianshiWorld]:
    # autouse, so that the lifecycle parameter reaches every generated scenario test
    yield from open_world(restart, tmp_path)


def _names(text: str) -> list[str]:
    """「甲」「乙」 → [甲, 乙]"""
    return re.findall(r"「([^」]+)」", text)


def _labels(text: str) -> list[str]:
    return [part.strip() for part in text.split("、") if part.strip()]


def _rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    header = [cell.strip() for cell in datatable[0]]
    return [dict(zip(header, (cell.strip() for cell in row), strict=True)) for row in datatable[1:]]


def _amount(text: str) -> dict[str, Any]:
    if not text:
        return {}
    match = re.fullmatch(r"(?P<amount>\d+(?:\.\d{1,2})?)(?P<unit>元/月|元/年|元（一次性）)", text)
    assert match is not None, f"看不懂的金额：「{text}」（应为 1250.00元/年 之类）"
    return {"amount": float(match["amount"]), "amount_unit": match["unit"]}


def _granted(benefit: str, amount: str = "") -> dict[str, Any]:
    return {"granted": True, "benefit": benefit, **_amount(amount)}


def _report(world: YijianshiWorld, task: Task, report: dict[str, Any]) -> None:
    """The partner reports: straight from the sign-for task (办结反馈), or from the task after 签收."""
    partner = task.item["partner"]
    if task.element_id == SIGN:
        world.complete_task(task, {"partner_action": "办结反馈", "report": report}, actor=partner)
    else:
        world.complete_task(task, {"report": report}, actor=partner)


def _sign(world: YijianshiWorld, task: Task) -> None:
    assert task.element_id == SIGN, f"「{task.item['name']}」已签收"
    world.complete_task(task, {"partner_action": "签收"}, actor=task.item["partner"])


# -- 假如 / 当: set-up and actions ---------------------------------------------------------------


@given('已部署社会救助"一件事"联办流程和联办时限政策')
@restarts
def deployed(world: YijianshiWorld) -> None:
    world.deploy()


@given(parsers.re(r"民政认定「(?P<applicant>[^」]+)」户为「(?P<status>[^」]+)」家庭并启动联办"))
@when(parsers.re(r"民政认定「(?P<applicant>[^」]+)」户为「(?P<status>[^」]+)」家庭并启动联办"))
@restarts
def certified(world: YijianshiWorld, applicant: str, status: str) -> None:
    world.certify(applicant, status)


@given(parsers.re(r"本地把「(?P<item>[^」]+)」的适用身份调整为(?P<statuses>(?:「[^」]+」)+)"))
@restarts
def catalogue_adjusted(world: YijianshiWorld, item: str, statuses: str) -> None:
    world.catalogue = world.catalogue.with_statuses(world.catalogue.code(item), _names(statuses), note="本地调整")


@given("经办人按系统列出的清单确认")
@when("经办人按系统列出的清单确认")
@restarts
def list_confirmed(world: YijianshiWorld) -> None:
    world.complete(REVIEW, {"selected_items": world.data()["selected_items"]}, actor=CASEWORKER)


@when(parsers.re(r"经办人从清单中删去「(?P<removed>[^」]+)」，增加「(?P<added>[^」]+)」，说明「(?P<reason>[^」]+)」"))
@restarts
def list_adjusted(world: YijianshiWorld, removed: str, added: str, reason: str) -> None:
    current = list(world.data()["selected_items"])
    gone, new = world.catalogue.code(removed), world.catalogue.code(added)
    assert gone in current and new not in current, current
    selected = [code for code in current if code != gone] + [new]
    world.complete(REVIEW, {"selected_items": selected, "adjust_reason": reason}, actor=CASEWORKER)


@when(parsers.re(r"经办人把目录中的全部 (?P<n>\d+) 个事项列入清单，说明「(?P<reason>[^」]+)」"))
@restarts
def list_all(world: YijianshiWorld, n: str, reason: str) -> None:
    codes = [item["code"] for item in world.catalogue.items]
    assert len(codes) == int(n), f"目录中有 {len(codes)} 个事项，不是 {n} 个"
    world.complete(REVIEW, {"selected_items": codes, "adjust_reason": reason}, actor=CASEWORKER)


@when(parsers.re(r"「(?P<item>[^」]+)」的联办部门签收"))
@restarts
def partner_signs(world: YijianshiWorld, item: str) -> None:
    _sign(world, world.task_for(world.catalogue.code(item), SIGN))


@when(
    parsers.re(
        r"「(?P<item>[^」]+)」的联办部门反馈：享受「(?P<benefit>[^」]+)」"
        r"(?:，金额 (?P<amount>\d+(?:\.\d+)?(?:元/月|元/年|元（一次性）)))?"
    )
)
@restarts
def partner_grants(world: YijianshiWorld, item: str, benefit: str, amount: str | None) -> None:
    _report(world, world.task_for(world.catalogue.code(item)), _granted(benefit, amount or ""))


@when(parsers.re(r"「(?P<item>[^」]+)」的联办部门反馈：不予享受，原因「(?P<reason>[^」]+)」"))
@restarts
def partner_refuses(world: YijianshiWorld, item: str, reason: str) -> None:
    _report(world, world.task_for(world.catalogue.code(item)), {"granted": False, "reason": reason})


@when(parsers.re(r"「(?P<item>[^」]+)」的联办部门退回民政，原因「(?P<reason>[^」]+)」"))
@restarts
def partner_returns(world: YijianshiWorld, item: str, reason: str) -> None:
    task = world.task_for(world.catalogue.code(item), SIGN)
    world.complete_task(task, {"partner_action": "退回民政", "return_reason": reason}, actor=task.item["partner"])


@when("各联办部门按以下顺序反馈办理结果：")
@restarts
def partners_report(world: YijianshiWorld, datatable: list[list[str]]) -> None:
    rows = _rows(datatable)
    signing = world.by_item(SIGN)
    for row in rows:
        code = world.catalogue.code(row["事项"])
        assert code in signing, f"「{row['事项']}」不在联办部门签收待办中"
        if row["结果"] == "享受":
            report = _granted(row["内容"], row["金额"])
        else:
            assert row["结果"] == "不予享受" and not row["金额"], row
            report = {"granted": False, "reason": row["内容"]}
        world.engines.restart_point()  # each partner's action is a request of its own
        if row["处理"] == "签收后办结":
            _sign(world, signing[code])
            world.engines.restart_point()
            _report(world, world.task_for(code, RESULT), report)
        else:
            assert row["处理"] == "当即办结", f"看不懂的处理方式：{row['处理']}"
            _report(world, signing[code], report)


@when("其余各联办部门当即办结反馈享受")
@restarts
def the_rest_grant(world: YijianshiWorld) -> None:
    _all_grant(world, except_code=None)


@when(parsers.re(r"除「(?P<item>[^」]+)」外，各联办部门当即办结反馈享受"))
@restarts
def all_but_one_grant(world: YijianshiWorld, item: str) -> None:
    _all_grant(world, except_code=world.catalogue.code(item))


def _all_grant(world: YijianshiWorld, except_code: str | None) -> None:
    for code, task in world.by_item().items():
        if code != except_code:
            world.engines.restart_point()
            _report(world, task, _granted(f"{world.catalogue.name(code)}已落实"))


@when(
    parsers.re(
        r"经办人核实补正「(?P<item>[^」]+)」：更正(?P<label>[^「」]+)为「(?P<value>[^」]+)」，说明「(?P<note>[^」]+)」"
    )
)
@restarts
def corrected(world: YijianshiWorld, item: str, label: str, value: str, note: str) -> None:
    task = world.task_for(world.catalogue.code(item), CORRECT)
    fields = {world.catalogue.household_field(label): value}
    world.complete_task(task, {"correction_note": note, "corrected_fields": fields}, actor=CASEWORKER)


def _expected_amount(seq: int) -> float:
    return 100 + seq + seq / 100  # 101.01, 102.02 … one per item, so a result in the wrong row shows


_HOW = r"(?P<how>当即办结反馈|先全部签收、再逐项办结反馈)"


@when(parsers.re(r"各联办部门按目录序号 (?P<order>[\d,]+) 的次序" + _HOW + "，每个事项的金额各不相同"))
@restarts
def partners_in_order(world: YijianshiWorld, order: str, how: str) -> None:
    seqs = [int(s) for s in order.split(",")]
    items = {item["seq"]: item for item in world.catalogue.items}
    assert sorted(seqs) == sorted(items), f"次序 {order} 应恰好包含目录的全部序号"
    tasks = world.by_item(SIGN)
    if how.startswith("先全部签收"):
        for seq in seqs:
            world.engines.restart_point()
            _sign(world, tasks[items[seq]["code"]])
        world.engines.restart_point()
        tasks = world.by_item(RESULT)
    for seq in seqs:
        world.engines.restart_point()
        item = items[seq]
        report = {
            "granted": True,
            "benefit": f"{item['name']}（第{seq}项）",
            "amount": _expected_amount(seq),
            "amount_unit": "元/月",
        }
        _report(world, tasks[item["code"]], report)


@when(parsers.re(r"经办人通过「(?P<channel>[^」]+)」告知申请人"))
@restarts
def notified(world: YijianshiWorld, channel: str) -> None:
    world.complete(NOTIFY, {"notify_channel": channel}, actor=CASEWORKER)


# -- 那么: checks ----------------------------------------------------------------------------------


def _item_rows(world: YijianshiWorld, codes: list[str]) -> list[dict[str, str]]:
    return [{"事项": world.catalogue.name(c), "联办部门": world.catalogue.by_code(c)["partner"]} for c in codes]


@then("系统自动列出的联办事项依次为：")
@restarts
def derived_list(world: YijianshiWorld, datatable: list[list[str]]) -> None:
    assert _item_rows(world, world.data()["derived_items"]) == _rows(datatable)


@then(parsers.re(r"列出的事项恰好是联办事项目录中适用于「(?P<status>[^」]+)」家庭的全部事项"))
@restarts
def derived_from_catalogue(world: YijianshiWorld, status: str) -> None:
    data = world.data()
    assert data["household_status"] == status
    expected = world.catalogue.derived(status)  # from the catalogue data the case was started with
    assert expected, f"目录中没有适用于「{status}」的事项"
    assert data["derived_items"] == expected, (data["derived_items"], expected)
    assert data["selected_items"] == expected  # what the caseworker is shown to confirm


@then(parsers.re(r"本案依据的联办事项目录版本是「(?P<version>[^」]+)」"))
@restarts
def catalogue_version(world: YijianshiWorld, version: str) -> None:
    assert world.data()["catalogue_version"] == version
    started = world.events("instance_started")[0].payload["data"]
    assert started["catalogue_version"] == version  # the audit log keeps the catalogue the case was started with
    assert started["catalogue"] == world.catalogue.items


@then(parsers.re(r"列出了(?P<items>(?:「[^」]+」)+)"))
@restarts
def derived_some(world: YijianshiWorld, items: str) -> None:
    derived = world.data()["derived_items"]
    for name in _names(items):
        assert world.catalogue.code(name) in derived, f"没有列出「{name}」"


@then(parsers.re(r"没有列出(?P<items>(?:「[^」]+」)+)"))
@restarts
def not_derived(world: YijianshiWorld, items: str) -> None:
    derived = world.data()["derived_items"]
    for name in _names(items):
        assert world.catalogue.code(name) not in derived, f"列出了「{name}」"


@then(parsers.re(r"「(?P<task>[^」]+)」已待办"))
@restarts
def task_ready(world: YijianshiWorld, task: str) -> None:
    assert task in world.ready_names(), f"待办：{world.ready_names()}"


@then("尚未向任何联办部门推送")
@restarts
def nothing_pushed(world: YijianshiWorld) -> None:
    assert world.partner_tasks() == []
    assert "handoffs" not in world.data()


@then(parsers.re(r"「(?P<item>[^」]+)」的「(?P<label>[^」]+)」期限是 (?P<when>.+)"))
@restarts
def item_deadline_is(world: YijianshiWorld, item: str, label: str, when: str) -> None:
    clocks = world.item_clocks(world.catalogue.code(item), label)
    assert clocks, f"「{item}」没有「{label}」计时"
    actual, expected = clocks[-1].clock.due_on, parse_day(when)
    assert actual == expected, f"应为 {show_day(expected)}，实际 {show_day(actual)}"


@then(parsers.re(r"「(?P<item>[^」]+)」的反馈期限是 (?P<when>.+)"))
@restarts
def feedback_due(world: YijianshiWorld, item: str, when: str) -> None:
    task = world.task_for(world.catalogue.code(item))
    assert task.data["handoff"]["due_on"] == parse_day(when).isoformat(), task.data["handoff"]


@then(parsers.re(r"已向联办部门推送以下事项，每个事项一件「(?P<task>[^」]+)」待办："))
@restarts
def pushed(world: YijianshiWorld, task: str, datatable: list[list[str]]) -> None:
    tasks = world.partner_tasks()
    assert all(t.ready.name == task and t.ready.lane == PARTNER_LANE for t in tasks), [
        (t.ready.name, t.ready.lane) for t in tasks
    ]
    codes = [t.code for t in tasks]
    assert len(codes) == len(set(codes)), f"有事项推送了不止一次：{codes}"
    shown = {(t.item["name"], t.item["partner"]) for t in tasks}
    assert shown == {(r["事项"], r["联办部门"]) for r in _rows(datatable)}
    assert sorted(codes) == sorted(world.data()["handoffs"])


@then(parsers.re(r"没有推送「(?P<item>[^」]+)」"))
@restarts
def not_pushed(world: YijianshiWorld, item: str) -> None:
    code = world.catalogue.code(item)
    assert code not in [t.code for t in world.partner_tasks()]
    assert code not in world.data()["handoffs"]


@then(parsers.re(r"清单调整记录为：增加「(?P<added>[^」]+)」，删去「(?P<removed>[^」]+)」"))
@restarts
def adjustment_recorded(world: YijianshiWorld, added: str, removed: str) -> None:
    data = world.data()
    assert data["added_items"] == [world.catalogue.code(added)]
    assert data["removed_items"] == [world.catalogue.code(removed)]
    assert data["adjust_reason"]


def _partner_view(world: YijianshiWorld, partner: str, item: str) -> dict[str, Any]:
    task = world.task_for(world.catalogue.code(item))
    assert task.item["partner"] == partner, f"「{item}」由「{task.item['partner']}」办理，不是「{partner}」"
    return dict(task.data["handoff"]["household"])


@then(parsers.re(r"「(?P<partner>[^」]+)」办理「(?P<item>[^」]+)」时看到的信息只有：(?P<labels>.+)"))
@restarts
def sees_only(world: YijianshiWorld, partner: str, item: str, labels: str) -> None:
    seen = _partner_view(world, partner, item)
    expected = {world.catalogue.household_field(label) for label in _labels(labels)}
    assert set(seen) == expected, f"看到：{sorted(seen)}"
    for key in expected - {"members"}:
        assert seen[key] == world.household[key]  # the certified value, unchanged


@then(parsers.re(r"「(?P<partner>[^」]+)」办理「(?P<item>[^」]+)」时看不到：(?P<labels>.+)"))
@restarts
def does_not_see(world: YijianshiWorld, partner: str, item: str, labels: str) -> None:
    seen = _partner_view(world, partner, item)
    for label in _labels(labels):
        assert world.catalogue.household_field(label) not in seen, f"「{partner}」看到了「{label}」"


@then(parsers.re(r"「(?P<partner>[^」]+)」办理「(?P<item>[^」]+)」时看到的每个家庭成员只有：(?P<labels>.+)"))
@restarts
def member_fields_only(world: YijianshiWorld, partner: str, item: str, labels: str) -> None:
    members = _partner_view(world, partner, item)["members"]
    expected = [world.catalogue.member_field(label) for label in _labels(labels)]
    assert len(members) == len(world.household["members"])
    for seen, source in zip(members, world.household["members"], strict=True):
        assert seen == {key: source[key] for key in expected if key in source}, seen


@then("每件联办部门待办中只有该事项的推送包，推送的信息都在目录为该事项列出的范围内")
@restarts
def every_package_minimal(world: YijianshiWorld) -> None:
    tasks = world.partner_tasks()
    assert tasks
    for task in tasks:
        assert set(task.data) == {"handoff"}, f"「{task.item['name']}」的待办中还有：{sorted(task.data)}"
        row = world.catalogue.by_code(task.code)
        household = task.data["handoff"]["household"]
        assert set(household) <= set(row["visible_fields"]), (task.code, sorted(household))
        for member in household.get("members", []):
            assert set(member) <= set(row["member_fields"]), (task.code, member)


@then(parsers.re(r"联办部门待办还有 (?P<n>\d+) 件(?:，其中没有「(?P<item>[^」]+)」)?"))
@restarts
def partner_tasks_left(world: YijianshiWorld, n: str, item: str | None) -> None:
    codes = [t.code for t in world.partner_tasks()]
    assert len(codes) == int(n), [world.catalogue.name(c) for c in codes]
    assert len(set(codes)) == len(codes)
    if item is not None:
        assert world.catalogue.code(item) not in codes


@then("尚未汇总幸福清单")
@restarts
def no_list_yet(world: YijianshiWorld) -> None:
    assert "happiness_list" not in world.data()
    assert NOTIFY not in [t.element_id for t in world.engine().get(world.iid).ready]


@then("没有遗留的联办部门待办")
@restarts
def no_partner_tasks(world: YijianshiWorld) -> None:
    assert world.tasks(SIGN, RESULT, CORRECT) == []


def _happiness(world: YijianshiWorld) -> list[dict[str, Any]]:
    data = world.data()
    assert "happiness_list" in data, f"尚未汇总幸福清单；待办：{world.ready_names()}"
    return list(data["happiness_list"])


def _detail(row: dict[str, Any]) -> str:
    if row["status"] != "已享受":
        return str(row["reason"])
    if row["amount"] is None:
        return str(row["benefit"])
    return f"{row['benefit']}（{row['amount']:.2f}{row['amount_unit']}）"


@then(parsers.re(r"幸福清单共 (?P<n>\d+) 项，内容为："))
@restarts
def happiness_list_is(world: YijianshiWorld, n: str, datatable: list[list[str]]) -> None:
    rows = _happiness(world)
    assert len(rows) == int(n)
    shown = [
        {"事项": r["name"], "联办部门": r["partner"], "结果": r["status"], "享受内容或原因": _detail(r)} for r in rows
    ]
    assert shown == _rows(datatable)


@then(parsers.re(r"幸福清单共 (?P<n>\d+) 项，每项都已享受"))
@restarts
def all_granted(world: YijianshiWorld, n: str) -> None:
    rows = _happiness(world)
    assert len(rows) == int(n)
    assert [r["status"] for r in rows] == ["已享受"] * int(n)


@then(parsers.re(r"幸福清单共 (?P<n>\d+) 项，每项都是该事项联办部门反馈的结果"))
@restarts
def each_own_result(world: YijianshiWorld, n: str) -> None:
    rows = _happiness(world)
    data = world.data()
    assert len(rows) == int(n) == len(data["results"])
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    for row in rows:
        expected = (f"{row['name']}（第{row['seq']}项）", _expected_amount(row["seq"]))
        assert (row["benefit"], row["amount"]) == expected, row
        assert data["results"][row["code"]]["code"] == row["code"]
    assert data["happiness_summary"] == {"total": int(n), "granted": int(n), "not_granted": 0, "late": 0}


@then(parsers.re(r"告知内容中有：(?P<line>.+)"))
@restarts
def notice_has(world: YijianshiWorld, line: str) -> None:
    text = world.data()["notification_text"]
    assert line in text.split("\n"), text


@then("联办已办结")
@restarts
def finished(world: YijianshiWorld) -> None:
    view = world.engine().get(world.iid)
    assert view.record.status == "completed", view.record.status
    assert view.data["notify_channel"]
    assert [e.type for e in world.events("instance_completed")] == ["instance_completed"]
    assert world.engine().verify(world.iid)[0].ok


@then(parsers.re(r"「民政核实补正」已待办，事项为「(?P<item>[^」]+)」，退回原因「(?P<reason>[^」]+)」"))
@restarts
def correction_ready(world: YijianshiWorld, item: str, reason: str) -> None:
    task = world.task_for(world.catalogue.code(item), CORRECT)
    assert task.ready.lane == CASEWORKER
    assert task.data["return_reason"] == reason


@then(parsers.re(r"「(?P<partner>[^」]+)」再次收到「(?P<item>[^」]+)」，这是第 (?P<n>\d+) 次推送"))
@restarts
def pushed_again(world: YijianshiWorld, partner: str, item: str, n: str) -> None:
    task = world.task_for(world.catalogue.code(item), SIGN)
    assert task.item["partner"] == partner
    assert task.data["handoff"]["round"] == int(n)
    assert set(task.data) == {"handoff"}, sorted(task.data)  # the return and correction fields stay with 民政


@then(parsers.re(r"「(?P<item>[^」]+)」的推送内容中(?P<label>[^「」]+)为「(?P<value>[^」]+)」"))
@restarts
def pushed_value(world: YijianshiWorld, item: str, label: str, value: str) -> None:
    task = world.task_for(world.catalogue.code(item))
    assert task.data["handoff"]["household"][world.catalogue.household_field(label)] == value


def _list_row(world: YijianshiWorld, item: str) -> dict[str, Any]:
    code = world.catalogue.code(item)
    found = [r for r in _happiness(world) if r["code"] == code]
    assert len(found) == 1, f"幸福清单中没有（或不止一个）「{item}」"
    return found[0]


@then(parsers.re(r"幸福清单中「(?P<item>[^」]+)」推送 (?P<n>\d+) 次，(?P<status>已享受|未享受)"))
@restarts
def list_row_rounds(world: YijianshiWorld, item: str, n: str, status: str) -> None:
    row = _list_row(world, item)
    assert (row["rounds"], row["status"]) == (int(n), status), row


@then(parsers.re(r"「(?P<item>[^」]+)」的办理结果记录了退回原因「(?P<reason>[^」]+)」和补正说明「(?P<note>[^」]+)」"))
@restarts
def return_recorded(world: YijianshiWorld, item: str, reason: str, note: str) -> None:
    result = world.data()["results"][world.catalogue.code(item)]
    assert len(result["returns"]) == 1, result["returns"]
    entry = result["returns"][0]
    assert (entry["reason"], entry["correction_note"], entry["round"]) == (reason, note, 1), entry
    assert entry["corrected_fields"] == ["electricity_account"] and entry["not_pushed_fields"] == [], entry


@then(
    parsers.re(r"已就「(?P<item>[^」]+)」的「(?P<label>[^」]+)」向(?P<roles>(?:「[^」]+」)+)各发起 (?P<n>\d+) 次督办")
)
@restarts
def item_supervised(world: YijianshiWorld, item: str, label: str, roles: str, n: str) -> None:
    rows = world.item_overdue_alerts(world.catalogue.code(item), label)
    assert sorted(r["role"] for r in rows) == sorted(_names(roles) * int(n)), rows
    due = world.item_clocks(world.catalogue.code(item), label)[-1].clock.due_at
    assert all(r["raised_at"] == due.isoformat() for r in rows), (rows, show(due))


@then(parsers.re(r"「(?P<item>[^」]+)」的督办都注明联办部门「(?P<partner>[^」]+)」"))
@restarts
def overdue_alerts_name_the_partner(world: YijianshiWorld, item: str, partner: str) -> None:
    ids = world.item_task_ids(world.catalogue.code(item))
    rows = [s for s in world.overdue_alerts() if s["task_id"] in ids]
    assert rows and {r["partner"] for r in rows} == {partner}, rows


@then(parsers.re(r"「(?P<item>[^」]+)」的督办均已解除"))
@restarts
def overdue_alerts_resolved(world: YijianshiWorld, item: str) -> None:
    ids = world.item_task_ids(world.catalogue.code(item))
    mine = [s for s in world.overdue_alerts() if s["task_id"] in ids]
    assert mine and all(s["resolved_at"] == world.clock.now().isoformat() for s in mine), mine
    assert [s for s in world.overdue_alerts(open_only=True) if s["task_id"] in ids] == []


@then(parsers.re(r"尚未就「(?P<item>[^」]+)」的「(?P<label>[^」]+)」发起督办"))
@restarts
def item_not_supervised(world: YijianshiWorld, item: str, label: str) -> None:
    assert world.item_clocks(world.catalogue.code(item), label), f"「{item}」没有「{label}」计时"
    assert world.item_overdue_alerts(world.catalogue.code(item), label) == []


@then(parsers.re(r"幸福清单中「(?P<item>[^」]+)」为(?P<which>逾期|按时)反馈"))
@restarts
def list_row_timeliness(world: YijianshiWorld, item: str, which: str) -> None:
    row = _list_row(world, item)
    assert row["on_time"] is (which == "按时"), row


@then("幸福清单中其余事项均为按时反馈")
@restarts
def others_on_time(world: YijianshiWorld) -> None:
    rows = _happiness(world)
    late = [r["name"] for r in rows if not r["on_time"]]
    assert len(late) == 1, late
    assert world.data()["happiness_summary"]["late"] == 1


# -- the catalogue, its schema, the forms and the policy as data --------------------------------------------


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_catalogue_matches_its_schema() -> None:
    schema = _json(CATALOGUE_SCHEMA)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(_json(CATALOGUE_FILE))
    ]
    assert errors == []


def test_catalogue_schema_refuses_what_the_process_could_not_use() -> None:
    validator = Draft202012Validator(_json(CATALOGUE_SCHEMA))
    good = _json(CATALOGUE_FILE)

    def broken(change: Any) -> list[str]:
        data = json.loads(json.dumps(good))
        change(data["items"][9])  # 电费减免
        return [e.message for e in validator.iter_errors(data)]

    assert broken(lambda i: i.update(statuses=["低保户"]))  # not a status the process knows
    assert broken(lambda i: i["visible_fields"].remove("status"))  # the legal basis must be visible
    assert broken(lambda i: i["visible_fields"].append("salary"))  # not a field of the certification
    assert broken(lambda i: i.update(member_fields=["name"]))  # members not visible, so no member fields
    assert broken(lambda i: i.update(evidence="？"))
    assert broken(lambda i: i.update(partner_sla_working_days=0))
    assert broken(lambda i: i.pop("partner"))


def test_catalogue_is_consistent() -> None:
    catalogue = Catalogue.read()
    items = catalogue.items
    assert len(items) == 15
    assert [i["seq"] for i in items] == list(range(1, 16))
    assert len({i["code"] for i in items}) == 15
    assert set(catalogue.raw["household_fields"]) == set(_json(CATALOGUE_SCHEMA)["$defs"]["household_field"]["enum"])
    # The start form declares every field the catalogue can push, and nothing is pushed that it does not declare.
    start = _json(START_SCHEMA)["$defs"]
    assert set(catalogue.raw["household_fields"]) == set(start["household"]["properties"])
    assert set(catalogue.raw["member_fields"]) == set(start["member"]["properties"])
    # The review form offers exactly the catalogue's items.
    review = _json(FORMS / "yijianshi" / "yijianshi-review-schema.json")
    offered = [o["const"] for o in review["properties"]["selected_items"]["items"]["oneOf"]]
    assert offered == [i["code"] for i in items]
    # The power company sees name, address, account number and status — not income (brief §3.1, issue 4).
    power = set(catalogue.by_code("dianfei")["visible_fields"])
    assert power == {"status", "certificate_no", "applicant_name", "address", "electricity_account"}
    outside = [i for i in items if i["partner"] != "民政"]
    assert not [i["code"] for i in outside if {"monthly_income", "per_capita_income"} & set(i["visible_fields"])]


def test_item_deadlines_fit_the_overdue_alert_ceiling() -> None:
    policy = load_policy(POLICY.read_bytes(), source=str(POLICY))
    ceiling = policy.stages["partner_sign"].limit + policy.stages["partner_result"].limit
    for item in Catalogue.read().items:
        assert 1 <= item["partner_sla_working_days"] <= ceiling, item["code"]
    assert set(policy.processes) == {"yijianshi", "yijianshi_handoff"}
    assert "未找到" in policy.source and "[S14]" in policy.source


def test_start_form_accepts_the_households_and_refuses_bad_data() -> None:
    schema = _json(START_SCHEMA)
    form = FormRef(START_SCHEMA.name, schema, None, None)
    catalogue = Catalogue.read()
    for household in HOUSEHOLDS.values():
        validate_submission(form, {"household": household, "catalogue_version": "v", "catalogue": catalogue.items})
    bad = json.loads(json.dumps(HOUSEHOLDS["张秀英"]))
    bad["applicant_id_number"] = "330106196805120021"  # wrong check digit
    bad["bank_account"]["card_number"] = "6217001234567890123"  # fails Luhn
    bad["benefit_amount"] = -1
    with pytest.raises(FormValidationError) as refused:
        validate_submission(form, {"household": bad, "catalogue_version": "v", "catalogue": catalogue.items})
    paths = {e.path for e in refused.value.field_errors}
    assert {"household/applicant_id_number", "household/bank_account/card_number", "household/benefit_amount"} <= paths


def test_partner_forms_require_a_reason_or_a_benefit() -> None:
    sign = FormRef("sign", _json(FORMS / "yijianshi" / "yijianshi-partner-sign-schema.json"), None, None)

    def fields(data: dict[str, Any]) -> set[str]:
        with pytest.raises(FormValidationError) as refused:
            validate_submission(sign, data)
        return {e.path for e in refused.value.field_errors}

    assert fields({"partner_action": "退回民政"}) == {"return_reason"}
    assert fields({"partner_action": "办结反馈"}) == {"report"}
    assert fields({"partner_action": "办结反馈", "report": {"granted": False}}) == {"report/reason"}
    assert fields({"partner_action": "办结反馈", "report": {"granted": True}}) == {"report/benefit"}
    assert fields({"partner_action": "办结反馈", "report": {"granted": True, "benefit": "减免", "amount": 1.005}}) >= {
        "report/amount"
    }
    assert "" in fields({"partner_action": "签收", "report": {"granted": True, "benefit": "减免"}})
    validate_submission(sign, {"partner_action": "签收"})
