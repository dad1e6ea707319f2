"""What the case page shows of a 一件事联办 case: each item's handoff, as its
audit events tell it, with the partner's result once reported (幸福清单).

Pure: instance data and events in, rows out. The events are the record every
channel writes (API, webhook acknowledgement, the partner inbox), so the page
agrees with the audit log whichever way a partner answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.audit import AuditEvent

RETURN, REPORT = "退回民政", "办结反馈"


@dataclass
class ItemRow:
    code: str
    name: str
    partner: str
    state: str = "pending"  # pending, open, signed, returned, reported
    round: int = 0
    due_on: str | None = None
    pushed_by: str | None = None  # "接口" once a partner system locked it
    returns: list[str] = field(default_factory=list)
    result: Mapping[str, Any] | None = None

    @property
    def label(self) -> str:
        if self.state == "reported" and self.result is not None:
            return "已享受" if self.result.get("granted") else "未享受"
        return HANDOFF_LABELS[self.state]


HANDOFF_LABELS = {
    "pending": "待推送",
    "open": "已推送，待签收",
    "signed": "已签收，办理中",
    "returned": "已退回，待民政补正",
    "reported": "已反馈",
}


def _items(data: Mapping[str, Any]) -> dict[str, ItemRow]:
    handoffs = data.get("handoffs")
    if not isinstance(handoffs, Mapping):
        return {}
    rows = {}
    for code, package in handoffs.items():
        item = package.get("item", {}) if isinstance(package, Mapping) else {}
        rows[str(code)] = ItemRow(str(code), str(item.get("name", code)), str(item.get("partner", "")))
    return rows


def case_items(data: Mapping[str, Any], events: Sequence[AuditEvent]) -> list[ItemRow]:
    """One row per selected 联办 item, in catalogue order; empty for other cases."""
    rows = _items(data)
    if not rows:
        return []
    item_of: dict[str, str] = {}  # handoff (task) id → item code
    for e in events:
        p = e.payload
        code = str(p["item"]) if isinstance(p.get("item"), str) else item_of.get(e.task_id or "")
        row = rows.get(code or "")
        if row is None:
            continue
        if e.type == "handoff_opened":
            item_of[str(e.task_id)] = row.code
            row.state, row.pushed_by = "open", None
            row.round = int(p.get("round") or row.round + 1)
            row.due_on = p.get("due_on") or row.due_on
        elif e.type == "partner_leased":
            row.pushed_by = "接口"
        elif e.type == "partner_returned" or (e.type == "task_completed" and _action(p) == RETURN):
            if row.state != "returned":
                row.state = "returned"
                row.returns.append(str(p.get("reason") or _form(p).get("return_reason") or ""))
        elif e.type == "partner_result" or (e.type == "task_completed" and "report" in _form(p)):
            row.state = "reported"
            row.result = {**(row.result or {}), **_form(p).get("report", {}), **_granted(p)}
        elif e.type == "task_completed" and _action(p) == "签收":
            row.state = "signed"
    results = data.get("results")
    if isinstance(results, Mapping):
        for code, result in results.items():
            if code in rows and isinstance(result, Mapping):
                rows[code].state, rows[code].result = "reported", result
    return list(rows.values())


def _form(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    form = payload.get("form_data")
    return form if isinstance(form, Mapping) else {}


def _action(payload: Mapping[str, Any]) -> Any:
    return _form(payload).get("partner_action")


def _granted(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"granted": payload["granted"]} if "granted" in payload else {}
