"""The case timeline: audit events told in Chinese, who did what when.

Pure: events, element names and a username → display-name lookup in, lines
out. Times are shown in Beijing time; the log itself stays in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.audit import AuditEvent
from jiuzhu import timefmt

# Kinds group lines for colour and filtering on the page.
PEOPLE, SYSTEM, CLOCK, PROBLEM = "people", "system", "clock", "problem"
UNITS = {"working_days": "个工作日", "natural_days": "天"}

_due = timefmt.deadline  # a deadline in an event is the Beijing day it runs out


@dataclass(frozen=True)
class Line:
    seq: int
    at: datetime
    when: str  # Beijing time, for people
    who: str | None
    text: str
    kind: str


def _q(name: Any) -> str:
    return f"「{name}」" if name else ""


def _limit(p: Mapping[str, Any]) -> str:
    return f"{p.get('limit')}{UNITS.get(str(p.get('unit')), '')}"


def _text(
    e: AuditEvent, p: dict[str, Any], name: Callable[[str | None], str], stage_names: Mapping[str, str]
) -> tuple[str, str] | None:
    """(wording, kind) for one event, or None for an event people need not see."""
    t = e.type
    el = name(e.element_id)
    simple = {
        "instance_completed": ("案件办结", SYSTEM),
        "task_claimed": (f"认领了{_q(p.get('name'))}", PEOPLE),
        "task_unclaimed": (f"取消认领{_q(p.get('name'))}", PEOPLE),
        "id_number_viewed": ("查看了完整身份证号", PEOPLE),
        "document_downloaded": (f"下载了材料{_q(p.get('name'))}", PEOPLE),
        "notice_numbered": (f"出具{_q(p.get('title'))}，文号 {p.get('number')}", PEOPLE),
        "dossier_exported": ("导出了一户一档", PEOPLE),
        "incident_retried": ("修正数据后重试故障环节", PEOPLE),
        "incident_resolved": ("故障已排除", SYSTEM),
    }
    if t in simple:
        return simple[t]
    if t == "instance_started":
        return "发起了案件", PEOPLE
    if t == "task_ready":
        lane = f"（{p['lane']}）" if p.get("lane") else ""
        return f"{_q(p.get('name') or el)}进入待办{lane}", SYSTEM
    if t == "task_completed":
        return f"提交了{_q(p.get('name') or el)}", PEOPLE
    if t == "task_submission_failed":
        return f"提交了{_q(p.get('name') or el)}，但后续处理失败", PROBLEM
    if t == "task_reassigned":
        return f"将{_q(p.get('name'))}转交给 {p.get('to')}，原因：{p.get('reason')}", PEOPLE
    if t == "task_sent_back":
        return f"将{_q(p.get('name'))}回退到{_q(p.get('to_name'))}，原因：{p.get('reason')}", PEOPLE
    if t == "task_cancelled":
        return f"{_q(p.get('name') or el)}已取消", SYSTEM
    if t == "gateway_decided":
        targets = "、".join(_q(name(x)) for x in p.get("taken") or []) or "（无）"
        return f"网关走向：{_q(p.get('name') or el)} → {targets}", SYSTEM
    if t == "timer_armed":
        return f"定时器{_q(el)}已设置，{timefmt.due_moment(p.get('due_at'))} 到期", CLOCK
    if t == "timer_fired":
        return f"定时器触发：{_q(el)}", CLOCK
    if t == "script_run":
        return f"系统执行{_q(p.get('name') or el)}", SYSTEM
    if t == "connector_called":
        return f"系统调用接口{_q(p.get('name') or el)}", SYSTEM
    if t == "connector_failed":
        return f"接口调用失败：{_q(el)}", PROBLEM
    if t == "element_completed":
        kind = str(p.get("kind", ""))
        if kind.endswith("StartEvent"):
            return f"流程开始：{_q(p.get('name') or el)}", SYSTEM
        if kind.endswith("EndEvent"):
            return f"到达结束：{_q(p.get('name') or el)}", SYSTEM
        return None  # plumbing (parallel joins, intermediate steps): the diagram shows them
    if t == "message_sent":
        return f"发送消息{_q(p.get('name'))}", SYSTEM
    if t == "incident_raised":
        return f"发生故障：{p.get('message')}", PROBLEM
    if t == "instance_failed":
        return f"案件异常结束（错误 {p.get('code') or p.get('name') or '未捕获'}）", PROBLEM
    if t == "instance_terminated":
        return f"终止了案件，原因：{p.get('reason')}", PEOPLE
    if t == "sla_clock_started":
        return f"开始计时：{_q(p.get('name'))}时限 {_limit(p)}，{_due(p.get('due_on'))} 到期", CLOCK
    if t == "sla_clock_closed":
        verdict = "按时完成" if p.get("on_time") else "超期完成"
        stage = "总时限" if p.get("clock") == "overall" else (el or p.get("stage"))
        return f"计时结束：{_q(stage)}{verdict}", CLOCK
    if t == "sla_paused":
        because = "、".join(stage_names.get(str(s), str(s)) for s in p.get("because") or [])
        return f"总时限暂停计时（{because}）", CLOCK
    if t == "sla_resumed":
        return f"总时限恢复计时，到期日调整为 {_due(p.get('due_on'))}", CLOCK
    if t == "sla_extended":
        return (
            f"总时限延期至 {_limit(p)}（原到期 {_due(p.get('old_due_on'))}，新到期 {_due(p.get('due_on'))}），"
            f"批准人 {p.get('approver')}（{p.get('approver_role')}），原因：{p.get('reason')}",
            PEOPLE,
        )
    if t == "sla_warning":
        return f"时限预警：{_q(p.get('name'))}将于 {_due(p.get('due_on'))} 到期", CLOCK
    if t == "sla_overdue":
        return (
            f"时限超期：{_q(p.get('name'))}已于 {_due(p.get('due_on'))} 到期，督办 {escalated_to(p)}",
            PROBLEM,
        )
    if t.startswith(("handoff_", "partner_", "webhook_")):
        return _partner_text(t, p)
    if t == "deadline_recomputed":
        return (
            f"节假日安排更新，到期日 {_due(p.get('old_due_on'))} → {_due(p.get('new_due_on'))}",
            CLOCK,
        )
    return f"系统事件 {t}", SYSTEM


WEBHOOK_TYPES = {"handoff.created": "推送", "handoff.resent": "重新推送", "handoff.returned": "退回",
                 "handoff.cancelled": "撤销"}  # fmt: skip


def _partner_text(t: str, p: Mapping[str, Any]) -> tuple[str, str]:
    """The 联办 channel: handoffs, leases, pushes and results (see integrations/partner)."""
    dept = p.get("department") or "联办部门"
    if t == "handoff_opened":
        again = "重新" if p.get("event") == "handoff.resent" else ""
        due = f"，{_due(p['due_on'])} 前反馈" if p.get("due_on") else ""
        item = _q(p.get("item_name") or p.get("item"))
        return f"{again}推送联办事项{item}至{dept}（第 {p.get('round') or 1} 轮{due}）", SYSTEM
    if t == "partner_read":
        return f"{dept}查看了联办事项", PEOPLE
    if t == "partner_signed":
        return f"{dept}签收了联办事项", PEOPLE
    if t == "partner_leased":
        return f"{dept}业务系统获取并锁定联办事项，锁定至 {_beijing(p.get('until'))}", PEOPLE
    if t == "partner_lease_extended":
        return f"{dept}延长锁定至 {_beijing(p.get('until'))}", PEOPLE
    if t == "partner_returned":
        return f"{dept}退回民政，原因：{p.get('reason')}", PROBLEM
    if t == "partner_result":
        granted = p.get("granted")
        verdict = "已享受" if granted is True else "未享受" if granted is False else "已反馈"
        return f"{dept}反馈办理结果：{verdict}", PEOPLE
    if t == "webhook_delivered":
        kind = WEBHOOK_TYPES.get(str(p.get("type")), "事件")
        return f"{kind}通知已送达{dept}（第 {p.get('attempts')} 次投递）", SYSTEM
    if t == "webhook_dead_lettered":
        return f"向{dept}的推送通知 {p.get('attempts')} 次投递失败，已转入死信：{p.get('error')}", PROBLEM
    return f"联办事件 {t}", SYSTEM


def escalated_to(payload: Mapping[str, Any]) -> str:
    """Every role an overdue limit was raised to (older events name one), and the 联办 department."""
    targets = payload.get("escalate_to")
    names = [targets] if isinstance(targets, str) else list(targets or [])
    text = "、".join(map(str, names)) or "—"
    return f"{text}（联办部门：{payload['partner']}）" if payload.get("partner") else text


def _beijing(value: Any) -> str:
    return timefmt.moment(value) if isinstance(value, str) else timefmt.NONE


def timeline(
    events: Sequence[AuditEvent],
    element_names: Mapping[str, str],
    display_name: Callable[[str], str] = str,
    stage_names: Mapping[str, str] | None = None,
) -> list[Line]:
    """``stage_names``: SLA stage keys by their limits' Chinese names (a pause names its cause)."""

    def name(element_id: str | None) -> str:
        # One instance of a multi-instance task is SpiffWorkflow's "<id> [child]".
        bare = (element_id or "").removesuffix(" [child]")
        return element_names.get(bare, bare)

    # A parallel join waits once per incoming branch; when the last branch
    # arrives SpiffWorkflow cancels the other waiting copies. That is the join
    # firing, not something being called off.
    joins = {e.element_id for e in events if e.type == "element_completed" and "Gateway" in str(e.payload.get("kind"))}
    lines = []
    for e in events:
        if e.type == "task_cancelled" and e.element_id in joins:
            continue
        told = _text(e, e.payload, name, stage_names or {})
        if told is None:
            continue
        who = display_name(e.actor) if e.actor else None
        when = timefmt.moment(e.occurred_at)
        lines.append(Line(e.seq, e.occurred_at, when, who, told[0], told[1]))
    return lines
