"""Timeline wording and path derivation from audit events (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from engine.audit import AuditEvent, seal
from engine.clock import FixedClock
from engine.events import EventDraft
from integrations.sql.store import SqlStore
from jiuzhu.web.case_path import Flow, case_path, sequence_flows
from jiuzhu.web.timeline import CLOCK, PEOPLE, PROBLEM, timeline
from tests.conftest import SAMPLE
from tests.support import decided_cases as dc

AT = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)


def events(*drafts: tuple[str, dict[str, Any], str | None, str | None, str | None]) -> list[AuditEvent]:
    return seal(
        "c", [EventDraft(t, p, task, el, actor) for t, p, task, el, actor in drafts], after_seq=0, prev_hash="0", at=AT
    )


def test_timeline_tells_who_did_what_in_chinese_and_beijing_time() -> None:
    log = events(
        ("instance_started", {}, None, None, "xl"),
        ("element_completed", {"kind": "StartEvent", "name": "收到申请"}, "t0", "start", None),
        ("element_completed", {"kind": "ParallelGateway", "name": ""}, "t9", "join", None),
        ("task_completed", {"name": "受理"}, "t1", "accept", "jb"),
        ("gateway_decided", {"name": "材料是否齐全", "taken": ["approve"]}, "t2", "gw", None),
        ("timer_fired", {"due_at": "2026-11-04T01:30:00+00:00"}, "t3", "remind", None),
        (
            "sla_clock_started",
            {"name": "总时限", "limit": 30, "unit": "working_days", "due_on": "2026-12-14"},
            None,
            None,
            None,
        ),
        ("sla_overdue", {"name": "总时限", "due_on": "2026-12-14", "escalate_to": "县级民政局"}, None, None, None),
        ("some_new_event", {}, None, None, None),
    )
    names = {"gw": "材料是否齐全", "approve": "审核确认", "remind": "两天未审查"}
    lines = timeline(log, names, {"xl": "李协理", "jb": "王经办"}.get)  # type: ignore[arg-type]
    texts = [line.text for line in lines]
    assert texts[:5] == [
        "发起了案件",
        "流程开始：「收到申请」",
        "提交了「受理」",
        "网关走向：「材料是否齐全」 → 「审核确认」",
        "定时器触发：「两天未审查」",
    ]
    assert "开始计时：「总时限」时限 30个工作日，2026-12-14 到期" in texts
    assert texts[-1] == "系统事件 some_new_event"
    assert lines[0].who == "李协理" and lines[2].who == "王经办" and lines[1].who is None
    assert lines[0].when == "2026-11-02 09:30" and lines[0].kind == PEOPLE
    assert [line.kind for line in lines if "超期" in line.text] == [PROBLEM]
    assert lines[4].kind == CLOCK


def test_an_overdue_limit_names_every_role_it_was_raised_to() -> None:
    late = {"name": "联办部门办理反馈", "due_on": "2026-10-12", "partner": "供电公司"}
    log = events(
        ("sla_overdue", {**late, "escalate_to": ["联办部门负责人", "乡镇审核人", "县级民政局"]}, "t", "ho_result", None)
    )
    [line] = timeline(log, {}, lambda _u: None)  # type: ignore[arg-type, return-value]  # no display name
    assert line.text == (
        "时限超期：「联办部门办理反馈」已于 2026-10-12 到期，"
        "督办 联办部门负责人、乡镇审核人、县级民政局（联办部门：供电公司）"
    )


FLOWS = [
    Flow("f1", "start", "a"),
    Flow("f2", "a", "gw"),
    Flow("f3", "gw", "b"),
    Flow("f4", "gw", "end_no"),
    Flow("f5", "b", "end"),
    Flow("f6", "a", "timer_end"),
]


def test_path_takes_only_the_branch_the_gateway_chose() -> None:
    log = events(
        ("element_completed", {"kind": "StartEvent"}, "t0", "start", None),
        ("task_ready", {}, "t1", "a", None),
        ("timer_armed", {"due_at": "x"}, "tm", "boundary", None),
        ("task_completed", {}, "t1", "a", "jb"),
        ("task_cancelled", {}, "tm", "boundary", None),
        ("gateway_decided", {"taken": ["b"]}, "t2", "gw", None),
        ("task_ready", {}, "t3", "b", None),
    )
    path = case_path(FLOWS, log, ["b"], ended=False)
    assert path.current == {"b"}
    assert path.completed == {"start", "a", "gw"}
    assert path.flows == {"f1", "f2", "f3"}
    assert path.last == "gw"  # the last element passed, even a gateway
    assert case_path(FLOWS, log, [], ended=True).current == frozenset()


def test_a_waiting_timer_is_a_current_position_until_it_fires() -> None:
    armed = events(("timer_armed", {"due_at": "x"}, "tm", "wait", None))
    assert case_path([], armed, [], ended=False).current == {"wait"}
    fired = events(("timer_armed", {}, "tm", "wait", None), ("timer_fired", {}, "tm", "wait", None))
    path = case_path([], fired, [], ended=False)
    assert path.current == frozenset() and path.completed == {"wait"}


def test_multi_instance_children_highlight_their_element() -> None:
    log = events(("task_completed", {}, "t1", "item [child]", None))
    assert case_path([], log, [], ended=False).completed == {"item"}


def test_sequence_flows_are_read_from_the_model() -> None:
    flows = sequence_flows(SAMPLE.name, SAMPLE.read_bytes())
    assert Flow("f_complete", "gw_complete", "approve") in flows and len(flows) == 8
    assert sequence_flows("bad.bpmn", b"<not xml") == []


def test_partner_channel_events_are_told_in_chinese() -> None:
    log = events(
        (
            "handoff_opened",
            {
                "item": "dianfei",
                "item_name": "电费减免",
                "department": "供电公司",
                "round": 2,
                "event": "handoff.resent",
                "due_on": "2026-11-16",
            },
            "h",
            "ho_sign",
            None,
        ),  # fmt: skip
        ("partner_leased", {"department": "供电公司", "until": "2026-11-02T02:00:00+00:00"}, "h", None, "供电公司"),
        ("partner_returned", {"department": "供电公司", "reason": "户号不符"}, "h", None, "供电公司"),
        ("partner_result", {"department": "供电公司", "granted": False}, "h", None, "供电公司"),
        (
            "webhook_delivered",
            {"department": "广电网络公司", "type": "handoff.created", "attempts": 3},
            "h",
            None,
            None,
        ),
        ("webhook_dead_lettered", {"department": "广电网络公司", "attempts": 5, "error": "HTTP 500"}, "h", None, None),
    )
    texts = [line.text for line in timeline(log, {})]
    assert texts == [
        "重新推送联办事项「电费减免」至供电公司（第 2 轮，2026-11-16 前反馈）",
        "供电公司业务系统获取并锁定联办事项，锁定至 2026-11-02 10:00",
        "供电公司退回民政，原因：户号不符",
        "供电公司反馈办理结果：未享受",
        "推送通知已送达广电网络公司（第 3 次投递）",
        "向广电网络公司的推送通知 5 次投递失败，已转入死信：HTTP 500",
    ]
    assert [line.kind for line in timeline(log, {})][2] == PROBLEM


def test_a_parallel_join_of_a_real_dibao_case_is_not_shown_as_cancelled(
    make_store: Callable[[], SqlStore], clock: FixedClock
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    iid = dc.start(engine)
    dc.to_confirmation(engine, clock, iid)  # through 入户调查 ∥ 信息核对 and their join
    events = engine.events(iid)
    assert any(e.type == "task_cancelled" and e.element_id == "db_join" for e in events)  # what Spiff records
    texts = [line.text for line in timeline(events, {"db_join": "调查与核对完成"})]
    assert not any("已取消" in t for t in texts), [t for t in texts if "已取消" in t]


def test_pauses_partner_reads_and_multi_instance_tasks_are_told_by_name_not_code() -> None:
    log = events(
        ("sla_paused", {"clock": "overall", "because": ["awaiting_ease"]}, None, None, None),
        ("partner_read", {"department": "供电公司"}, "t1", "ho_sign", "lb_power"),
        ("partner_signed", {"department": "供电公司"}, "t1", "ho_sign", "lb_power"),
        ("task_ready", {"lane": "成员单位"}, "t2", "give_opinion [child]", None),
    )
    told = [
        line.text for line in timeline(log, {"give_opinion": "成员单位出具意见"}, str, {"awaiting_ease": "等待缓解"})
    ]
    assert told == [
        "总时限暂停计时（等待缓解）",
        "供电公司查看了联办事项",
        "供电公司签收了联办事项",
        "「成员单位出具意见」进入待办（成员单位）",
    ]
