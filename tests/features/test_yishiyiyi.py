"""Step definitions for ``features/yishiyiyi.feature`` (一事一议, Chinese Gherkin).

Every scenario runs twice on SQLite: once with one engine, once with a
brand-new engine for every step and every scheduler run ("restart": nothing
survives in memory, so every step is a save/restore round trip). See
:mod:`tests.support.yishiyiyi_world` for the case and :mod:`tests.support.sla_world` for how
time moves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from engine.errors import FormValidationError
from engine.sla.clocks import STATE_LABELS
from tests.support.sla_world import parse_day, restarts, show_day
from tests.support.yishiyiyi_world import MEMBER_UNITS, OPINION_TASK, YishiyiyiWorld, open_world

scenarios("yishiyiyi.feature")


@pytest.fixture(params=[pytest.param(False, id="sqlite"), pytest.param(True, id="sqlite-restart")])
def restart(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture(autouse=True)
def world(restart: bool, tmp_path: Path) -> Iterator[YishiyiyiWorld]:
    yield from open_world(restart, tmp_path)


def _units(text: str) -> list[str]:
    return [u.strip() for u in text.split("、") if u.strip()]


def _stages(datatable: list[list[str]]) -> list[dict[str, Any]]:
    header, *rows = datatable
    assert header == ["期次", "发放月份", "金额"], header
    return [{"period": int(p), "pay_month": m, "amount": float(a)} for p, m, a in rows]


_UNIT = r"(?P<unit>县[^「」，、\s]+?)"

# -- 假如 / 当: set-up and actions ------------------------------------------------------------


@given("已加载时限政策并部署「一事一议」流程")
@restarts
def deployed(world: YishiyiyiWorld) -> None:
    world.deploy()


@given(
    parsers.re(
        r"(?P<org>\S+?)报送一事一议案卷：申请人\S+?家因(?P<reason>\S+?)申请救助 (?P<amount>\d+) 元，"
        r"超出乡镇审批额度 (?P<cap>\d+) 元"
    )
)
@restarts
def case_submitted(world: YishiyiyiWorld, org: str, reason: str, amount: str, cap: str) -> None:
    world.submit_case(org, reason, float(amount), float(cap))


@given(parsers.re(r"本县协调机制议事规则为「(?P<quorum>[^」（]+)(?:（(?P<n>\d+) 个）)?」、「(?P<decision>[^」]+)」"))
def rules(world: YishiyiyiWorld, quorum: str, n: str | None, decision: str) -> None:
    # The county's rules of procedure, entered with the next convening (no engine involved here).
    world.quorum_rule, world.decision_rule = quorum, decision
    world.quorum_min_units = int(n) if n else None


@when(parsers.re(r"县级民政局召集协调机制会议，出席单位：(?P<units>.+)"))
@restarts
def convened(world: YishiyiyiWorld, units: str) -> None:
    world.convene(_units(units))


@when(parsers.re(r"县级民政局召集协调机制会议，前 (?P<n>\d+) 个成员单位出席"))
@restarts
def convened_first(world: YishiyiyiWorld, n: str) -> None:
    world.convene(MEMBER_UNITS[: int(n)])


@when(
    parsers.re(
        _UNIT + r"出具意见「(?P<opinion>同意|不同意|弃权)」"
        r"(?:，建议救助 (?P<amount>\d+) 元)?(?:，理由「(?P<remarks>[^」]+)」)?"
    )
)
@restarts
def opinion_given(world: YishiyiyiWorld, unit: str, opinion: str, amount: str | None, remarks: str | None) -> None:
    world.give_opinion(unit, opinion, float(amount) if amount else None, remarks)


@when(parsers.re(_UNIT + r"试图出具意见「不同意」，未说明理由"))
@restarts
def opinion_without_reason(world: YishiyiyiWorld, unit: str) -> None:
    task = world.opinion_tasks()[unit]
    try:
        world.engine().complete_task(world.iid, task.id, {"opinion": "不同意"}, actor=unit)
    except FormValidationError as exc:
        world.refusal = exc
    else:
        world.refusal = None


@when(parsers.re(r"(?:除(?P<except_unit>县[^「」，\s]+?)外，)?其余出席单位都出具意见「(?P<opinion>同意|不同意|弃权)」"))
@restarts
def others_give_opinion(world: YishiyiyiWorld, except_unit: str | None, opinion: str) -> None:
    pending = [u for u in world.opinion_tasks() if u != except_unit]
    assert pending, "没有其余待出具意见的单位"
    for unit in pending:
        world.give_opinion(unit, opinion)


@when(parsers.re(r"出席单位中 (?P<agree>\d+) 个同意、(?P<against>\d+) 个不同意、(?P<abstain>\d+) 个弃权"))
@restarts
def votes_cast(world: YishiyiyiWorld, agree: str, against: str, abstain: str) -> None:
    attending = list(world.data()["attending_units"])
    votes = ["同意"] * int(agree) + ["不同意"] * int(against) + ["弃权"] * int(abstain)
    assert len(votes) == len(attending), f"出席 {len(attending)} 个单位，给出了 {len(votes)} 份意见"
    for unit, opinion in zip(attending, votes, strict=True):
        world.give_opinion(unit, opinion)


@when(
    parsers.re(
        r"出席单位按此顺序出具意见：(?P<order>[^；]+)；其中(?P<special>.+)，其余「(?P<default>同意|不同意|弃权)」"
    )
)
@restarts
def opinions_in_order(world: YishiyiyiWorld, order: str, special: str, default: str) -> None:
    chosen = dict(re.findall(r"(县[^「」、\s]+?)「(同意|不同意|弃权)」", special))
    for unit in _units(order):
        world.give_opinion(unit, chosen.get(unit, default))


_MINUTES = r"协调机制召集人(?P<attempt>试图)?签发会议纪要「(?P<number>[^」]+)」，"


def _sign(world: YishiyiyiWorld, attempt: str | None, name: str, form: dict[str, Any]) -> None:
    world.try_complete(name, form, actor="协调机制召集人")
    if not attempt:
        assert world.refusal is None, f"表单被退回：{world.refusal}"


@when(parsers.re(_MINUTES + r"决定救助 (?P<amount>\d+) 元，一次性发放"))
@restarts
def minutes_lump_sum(world: YishiyiyiWorld, attempt: str | None, number: str, amount: str) -> None:
    form = {"minutes_number": number, "decided_amount": float(amount), "payment_mode": "一次性发放"}
    _sign(world, attempt, "签发会议纪要（同意救助）", form)


@when(parsers.re(_MINUTES + r"决定救助 (?P<amount>\d+) 元，分 (?P<n>\d+) 期发放："))
@restarts
def minutes_staged(
    world: YishiyiyiWorld, attempt: str | None, number: str, amount: str, n: str, datatable: list[list[str]]
) -> None:
    stages = _stages(datatable)
    form = {
        "minutes_number": number,
        "decided_amount": float(amount),
        "payment_mode": "分阶段发放",
        "stage_count": int(n),
        "payment_stages": stages,
    }
    _sign(world, attempt, "签发会议纪要（同意救助）", form)


@when(parsers.re(_MINUTES + r"不予救助，理由「(?P<reasons>[^」]+)」"))
@restarts
def minutes_rejected(world: YishiyiyiWorld, attempt: str | None, number: str, reasons: str) -> None:
    form = {"minutes_number": number, "rejection_reasons": reasons}
    _sign(world, attempt, "签发会议纪要（不予救助）", form)


@when("系统管理员确认故障后重试")
@restarts
def incident_retried(world: YishiyiyiWorld) -> None:
    world.engine().retry_incident(world.iid, {}, actor="系统管理员")


# -- 那么: the case ------------------------------------------------------------------------------


@then(parsers.re(r"「(?P<name>[^」]+)」(?P<which>已|仍|尚未)待办"))
@restarts
def task_ready(world: YishiyiyiWorld, name: str, which: str) -> None:
    ready = name in world.ready_task_names()
    assert ready == (which != "尚未"), f"待办：{world.ready_task_names()}"


@then(parsers.re(r"本次会议(?P<outcome>达到|未达到)法定人数（出席 (?P<n>\d+) 个，至少需要 (?P<required>\d+) 个）"))
@restarts
def quorum(world: YishiyiyiWorld, outcome: str, n: str, required: str) -> None:
    meeting = world.data()["meeting_log"][-1]
    said = (outcome == "达到", int(n), int(required))
    actual = (meeting["quorum_reached"], len(meeting["attending_units"]), meeting["quorum_required"])
    assert actual == said, meeting


@then(parsers.re(r"会议记录共 (?P<n>\d+) 次：(?P<summary>.+)"))
@restarts
def meeting_log(world: YishiyiyiWorld, n: str, summary: str) -> None:
    log = world.data()["meeting_log"]
    said = [(int(no), outcome == "达到") for no, outcome in re.findall(r"第 (\d+) 次(达到|未达到)法定人数", summary)]
    assert len(log) == int(n) == len(said), log
    assert [(m["meeting_no"], m["quorum_reached"]) for m in log] == said, log


@then(parsers.re(r"待办中有 (?P<n>\d+) 项「成员单位出具意见」，出席单位各一项"))
@restarts
def one_task_per_unit(world: YishiyiyiWorld, n: str) -> None:
    tasks = world.opinion_tasks()
    assert len(tasks) == int(n), sorted(tasks)
    assert sorted(tasks) == sorted(world.data()["attending_units"]), sorted(tasks)
    assert all(t.lane == "协调机制成员单位" for t in tasks.values()), [t.lane for t in tasks.values()]


@then(parsers.re(r"待办中有 1 项「成员单位出具意见」，属于" + _UNIT))
@restarts
def one_task_left(world: YishiyiyiWorld, unit: str) -> None:
    assert list(world.opinion_tasks()) == [unit], list(world.opinion_tasks())


@then("待办中没有「成员单位出具意见」")
@restarts
def no_opinion_tasks(world: YishiyiyiWorld) -> None:
    assert not any(n.startswith(OPINION_TASK) for n in world.ready_task_names()), world.ready_task_names()


@then(parsers.re(r"意见汇总中恰好有 (?P<n>\d+) 条，出席单位各一条"))
@restarts
def opinions_complete(world: YishiyiyiWorld, n: str) -> None:
    data = world.data()
    opinions = data["unit_opinions"]
    assert len(opinions) == int(n), opinions
    assert sorted(opinions) == sorted(data["attending_units"]), opinions
    assert all(o["opinion"] in {"同意", "不同意", "弃权"} for o in opinions.values()), opinions


@then(parsers.re(r"意见汇总中" + _UNIT + r"的意见是「(?P<opinion>同意|不同意|弃权)」"))
@restarts
def opinion_recorded(world: YishiyiyiWorld, unit: str, opinion: str) -> None:
    assert world.data()["unit_opinions"][unit]["opinion"] == opinion, world.data()["unit_opinions"]


@then(
    parsers.re(
        r"表决结果为「(?P<result>同意救助|不予救助)」：同意 (?P<agree>\d+) 个、不同意 (?P<against>\d+) 个、"
        r"弃权 (?P<abstain>\d+) 个"
    )
)
@restarts
def vote_result(world: YishiyiyiWorld, result: str, agree: str, against: str, abstain: str) -> None:
    data = world.data()
    actual = (data["resolution"], data["agree_count"], data["disagree_count"], data["abstain_count"])
    assert actual == (result, int(agree), int(against), int(abstain)), actual


@then(
    parsers.re(
        r"本案已办结，决定「(?P<result>[^」]+)」，救助金额 (?P<amount>\d+) 元，会议纪要编号「(?P<number>[^」]+)」"
    )
)
@restarts
def closed(world: YishiyiyiWorld, result: str, amount: str, number: str) -> None:
    view = world.view()
    assert view.record.status == "completed", (view.record.status, view.record.incident)
    decision = view.data["decision"]
    assert (decision["result"], decision["decided_amount"], decision["minutes_number"]) == (
        result,
        float(amount),
        number,
    ), decision
    ends = [e.element_id for e in world.events("element_completed") if e.payload.get("kind") == "EndEvent"]
    assert ends == ["end_approved" if result == "同意救助" else "end_rejected"], ends


@then(parsers.re(r"救助金分 (?P<n>\d+) 期发放，合计 (?P<total>\d+) 元"))
@restarts
def payment_plan(world: YishiyiyiWorld, n: str, total: str) -> None:
    plan = world.data()["decision"]["payment_plan"]
    assert len(plan) == int(n), plan
    assert [s["period"] for s in plan] == list(range(1, int(n) + 1)), plan
    assert round(sum(s["amount"] for s in plan) * 100) == int(total) * 100, plan


@then(parsers.re(r"第 (?P<period>\d+) 期于 (?P<month>\d{4}-\d{2}) 发放 (?P<amount>\d+) 元"))
@restarts
def payment_stage(world: YishiyiyiWorld, period: str, month: str, amount: str) -> None:
    plan = {s["period"]: s for s in world.data()["decision"]["payment_plan"]}
    stage = plan[int(period)]
    assert (stage["pay_month"], stage["amount"]) == (month, float(amount)), stage


@then(parsers.re(r"决定记录的理由是「(?P<reasons>[^」]+)」"))
@restarts
def decision_reasons(world: YishiyiyiWorld, reasons: str) -> None:
    assert world.data()["decision"]["rejection_reasons"] == reasons


@then(parsers.re(r"决定记录为第 (?P<n>\d+) 次会议作出"))
@restarts
def decision_meeting(world: YishiyiyiWorld, n: str) -> None:
    assert world.data()["decision"]["meeting_no"] == int(n), world.data()["decision"]


@then("本案尚未作出决定")
@restarts
def undecided(world: YishiyiyiWorld) -> None:
    view = world.view()
    assert view.record.status in {"running", "incident"}, view.record.status
    assert "decision" not in view.data, view.data["decision"]
    assert not [e for e in world.events("element_completed") if e.payload.get("kind") == "EndEvent"]


def _field_error(world: YishiyiyiWorld, title: str) -> str:
    refusal = world.refusal
    assert isinstance(refusal, FormValidationError), f"表单没有被退回（{refusal!r}）"
    found = {world.titles.get(fe.path, fe.path): fe.message for fe in refusal.field_errors}
    assert title in found, f"没有关于「{title}」的提示；提示：{found}"
    return found[title]


@then(parsers.re(r"表单被退回，「(?P<title>[^」]+)」提示「(?P<message>.+)」"))
@restarts
def form_refused(world: YishiyiyiWorld, title: str, message: str) -> None:
    assert _field_error(world, title) == message


@then(parsers.re(r"表单还提示「(?P<title>[^」]+)」「(?P<message>.+)」"))
@restarts
def form_also_refused(world: YishiyiyiWorld, title: str, message: str) -> None:
    assert _field_error(world, title) == message


@then(parsers.re(r"本案在「(?P<task>[^」]+)」出现故障，提示「(?P<message>.+)」"))
@restarts
def incident(world: YishiyiyiWorld, task: str, message: str) -> None:
    view = world.view()
    assert view.record.status == "incident", view.record.status
    assert view.incident is not None, view.record
    assert view.incident.message.startswith(f"「{task}」执行失败"), view.incident
    assert message in view.incident.message, view.incident
    assert task not in world.ready_task_names(), world.ready_task_names()


# -- 那么: time limits -----------------------------------------------------------------------------


def _clock(world: YishiyiyiWorld, unit: str | None, label: str) -> Any:
    return world.unit_clock(unit, label) if unit else world.clock_of(label)


@then(parsers.re(r"(?:" + _UNIT + r"的)?「(?P<label>[^」]+)」的期限是 (?P<when>.+)"))
@restarts
def deadline_is(world: YishiyiyiWorld, unit: str | None, label: str, when: str) -> None:
    expected = parse_day(when)
    actual = _clock(world, unit, label).clock.due_on
    assert actual == expected, f"「{label}」的期限：应为 {show_day(expected)}，实际 {show_day(actual)}"


@then(parsers.re(r"(?:" + _UNIT + r"的)?「(?P<label>[^」]+)」处于「(?P<state>[^」]+)」状态"))
@restarts
def state_is(world: YishiyiyiWorld, unit: str | None, label: str, state: str) -> None:
    actual = _clock(world, unit, label).state
    shown = STATE_LABELS.get(actual, actual)
    assert shown == state, f"「{label}」处于「{shown}」（{actual}）状态"


@then(parsers.re(r"已就「(?P<label>[^」]+)」向「(?P<role>[^」]+)」发起 (?P<n>\d+) 次督办"))
@restarts
def supervised(world: YishiyiyiWorld, label: str, role: str, n: str) -> None:
    rows = world.overdue_alerts(label)
    assert [r["role"] for r in rows] == [role] * int(n), rows
    due = {s.clock.key: s.clock.due_at.isoformat() for s in world.clocks(label)}
    assert all(r["raised_at"] == due[r["clock"]] for r in rows), (rows, due)
