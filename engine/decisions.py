"""The decision of a case, read from the engine's audit record.

A case is decided when a decision task completed (its ``task_completed``
event: actor, lane, time, submitted form) or when the engine terminated it.
What counts as a decision task, and which form field holds the outcome,
the amount, the certificate number and the reasons, is configuration per
procedure (``processes/<procedure>/<procedure>.decisions.json``), never the
instance data: a client can put any key into start data, but only a
completed decision task writes an audit event of its element.

Pure: events and rules in, a :class:`Decision` (or ``None``) out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.audit import AuditEvent
from engine.clock import SHANGHAI
from engine.errors import InvalidRequestError

GRANTED = "纳入"
REFUSED = "不予确认"
TERMINATED = "终止"
WITHDRAWN = "撤回"
OUTCOMES = (GRANTED, REFUSED, TERMINATED, WITHDRAWN)
BODIES = ("township", "county", "coordination")


@dataclass(frozen=True)
class AmountSource:
    """Where the decided amount is recorded: a field of the decision form,
    the latest completion of another task, or a script's data change."""

    field: str | None = None
    task: str | None = None
    script: str | None = None
    variable: str | None = None


@dataclass(frozen=True)
class Rule:
    task: str
    body: str
    outcome: str | None = None  # a fixed outcome, or read from outcome_field
    outcome_field: str | None = None
    outcome_map: Mapping[str, str | None] | None = None
    amount: AmountSource | None = None
    certificate_field: str | None = None
    reasons_field: str | None = None
    reasons_task: str | None = None
    # The completion counts only when the case then reached this end event …
    confirmed_by_end: str | None = None
    # … or when the next decision of this gateway took this target.
    confirmed_by_gateway: tuple[str, str] | None = None


@dataclass(frozen=True)
class NoticeKind:
    kind: str
    template: str
    title: str


@dataclass(frozen=True)
class Rules:
    process_id: str
    rules: tuple[Rule, ...]
    payment_start: str | None = None  # "next_month": 次月起发放
    withdraw_marker: str = "撤回"
    notices: Mapping[str, NoticeKind] | None = None  # outcome → notice

    def notice_for(self, outcome: str) -> NoticeKind | None:
        return (self.notices or {}).get(outcome)

    def notice(self, kind: str) -> tuple[str, NoticeKind] | None:
        return next(((o, n) for o, n in (self.notices or {}).items() if n.kind == kind), None)


@dataclass(frozen=True)
class Decision:
    process_id: str
    outcome: str
    decided_at: datetime
    decided_by: str | None
    lane: str | None
    body: str | None  # township / county / coordination; None: the case's own unit (终止 by an administrator)
    element_id: str | None
    task_name: str | None
    amount: float | None = None
    certificate_no: str | None = None
    payment_start: str | None = None  # YYYY-MM
    reasons: tuple[str, ...] = ()
    seq: int = 0

    @property
    def decided_on(self) -> str:
        return self.decided_at.astimezone(SHANGHAI).date().isoformat()


def _key(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def next_month(moment: datetime) -> str:
    """第二十一条: payment starts the month after the decision (Beijing date)."""
    day = moment.astimezone(SHANGHAI).date()
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return f"{year:04d}-{month:02d}"


def _form(event: AuditEvent) -> Mapping[str, Any]:
    data = event.payload.get("form_data")
    return data if isinstance(data, Mapping) else {}


def _latest_form(events: Sequence[AuditEvent], task: str, before: int) -> Mapping[str, Any]:
    done = [e for e in events[:before] if e.type == "task_completed" and e.element_id == task]
    return _form(done[-1]) if done else {}


def _amount(events: Sequence[AuditEvent], index: int, source: AmountSource | None) -> float | None:
    if source is None:
        return None
    if source.field and not source.task:
        return _number(_form(events[index]).get(source.field))
    if source.task and source.field:
        return _number(_latest_form(events, source.task, index).get(source.field))
    if source.script and source.variable:
        for e in reversed(events[:index]):
            if e.type == "script_run" and e.element_id == source.script:
                diff = e.payload.get("data_diff") or {}
                if source.variable in (diff.get("added") or {}):
                    return _number(diff["added"][source.variable])
                changed = (diff.get("changed") or {}).get(source.variable)
                return _number(changed.get("new")) if isinstance(changed, Mapping) else None
    return None


def _confirmed(rule: Rule, events: Sequence[AuditEvent], index: int) -> bool:
    later = events[index + 1 :]
    if rule.confirmed_by_end is not None:
        # Reached before the same task completed again: this completion routed there.
        for e in later:
            if e.element_id == rule.confirmed_by_end and e.type == "element_completed":
                return True
            if e.type == "task_completed" and e.element_id == rule.task:
                return False
        return False
    if rule.confirmed_by_gateway is not None:
        gateway, target = rule.confirmed_by_gateway
        decided = next((e for e in later if e.type == "gateway_decided" and e.element_id == gateway), None)
        return decided is not None and target in (decided.payload.get("taken") or [])
    return True


def _outcome(rule: Rule, form: Mapping[str, Any]) -> str | None:
    if rule.outcome is not None:
        return rule.outcome
    if rule.outcome_field is None or rule.outcome_field not in form:
        return None
    return (rule.outcome_map or {}).get(_key(form[rule.outcome_field]))


def _reasons(rule: Rule, events: Sequence[AuditEvent], index: int) -> tuple[str, ...]:
    if rule.reasons_field is None:
        return ()
    form = _latest_form(events, rule.reasons_task, index) if rule.reasons_task else _form(events[index])
    value = form.get(rule.reasons_field)
    values = value if isinstance(value, list) else [value]
    return tuple(str(v) for v in values if isinstance(v, str) and v.strip())


def decide(events: Sequence[AuditEvent], rules: Rules) -> Decision | None:
    """The case's decision: the last decision-task completion the record confirms,
    or the engine's termination of the case; None while undecided."""
    by_task: dict[str, list[Rule]] = {}
    for r in rules.rules:
        by_task.setdefault(r.task, []).append(r)
    found: Decision | None = None
    for index, e in enumerate(events):
        if e.type == "instance_terminated":
            reason = str(e.payload.get("reason") or "")
            outcome = WITHDRAWN if rules.withdraw_marker and rules.withdraw_marker in reason else TERMINATED
            return Decision(
                rules.process_id, outcome, e.occurred_at, e.actor, None, None, None, None,
                reasons=(reason,) if reason else (), seq=e.seq,
            )  # fmt: skip
        candidates = by_task.get(e.element_id or "", []) if e.type == "task_completed" else []
        form = _form(e)
        matched = [(r, o) for r in candidates if (o := _outcome(r, form)) is not None and _confirmed(r, events, index)]
        if not matched:
            continue
        rule, outcome = matched[0]
        granted = outcome == GRANTED
        found = Decision(
            process_id=rules.process_id,
            outcome=outcome,
            decided_at=e.occurred_at,
            decided_by=e.actor,
            lane=_text(e.payload.get("lane")),
            body=rule.body,
            element_id=e.element_id,
            task_name=_text(e.payload.get("name")),
            amount=_amount(events, index, rule.amount) if granted else None,
            certificate_no=_text(form.get(rule.certificate_field)) if rule.certificate_field and granted else None,
            payment_start=next_month(e.occurred_at) if granted and rules.payment_start == "next_month" else None,
            reasons=() if granted else _reasons(rule, events, index),
            seq=e.seq,
        )
    return found


def _bad(source: str, what: str) -> InvalidRequestError:
    return InvalidRequestError(f"决定配置 {source}：{what}", code="DECISION_RULES_INVALID")


def _rule(source: str, raw: Mapping[str, Any]) -> Rule:
    task, body = raw.get("task"), raw.get("body")
    if not isinstance(task, str) or body not in BODIES:
        raise _bad(source, f"决定任务须写明 task 和 body（{'/'.join(BODIES)}）：{raw}")
    outcome = raw.get("outcome")
    mapping = raw.get("outcome_map")
    values = [outcome] if outcome is not None else list((mapping or {}).values())
    if not values or any(v is not None and v not in OUTCOMES for v in values):
        raise _bad(source, f"任务 {task} 的决定结果须为 {'、'.join(OUTCOMES)} 之一")
    amount = raw.get("amount")
    gateway = raw.get("confirmed_by_gateway")
    return Rule(
        task=task,
        body=body,
        outcome=outcome,
        outcome_field=raw.get("outcome_field"),
        outcome_map=dict(mapping) if isinstance(mapping, Mapping) else None,
        amount=AmountSource(**amount) if isinstance(amount, Mapping) else None,
        certificate_field=raw.get("certificate_field"),
        reasons_field=raw.get("reasons_field"),
        reasons_task=raw.get("reasons_task"),
        confirmed_by_end=raw.get("confirmed_by_end"),
        confirmed_by_gateway=(gateway["gateway"], gateway["taken"]) if isinstance(gateway, Mapping) else None,
    )


def load_rules(text: str, *, source: str) -> Rules:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise _bad(source, f"不是合法的 JSON（{exc}）") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("process_id"), str):
        raise _bad(source, "缺少 process_id")
    notices = {
        outcome: NoticeKind(n["kind"], n["template"], n["title"]) for outcome, n in (raw.get("notices") or {}).items()
    }
    if any(o not in OUTCOMES for o in notices):
        raise _bad(source, "notices 的键须为决定结果")
    return Rules(
        process_id=raw["process_id"],
        rules=tuple(_rule(source, r) for r in raw.get("decisions") or []),
        payment_start=raw.get("payment_start"),
        withdraw_marker=raw.get("withdraw_marker", "撤回"),
        notices=notices,
    )
