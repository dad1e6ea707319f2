"""What the case-history pages (/audit/cases/{id}) show, drawn from the pure
reconstruction in engine/history.py: event kinds in Chinese, the case data as
a readable tree with the forms' own field titles, 身份证号 masked unless the
viewer may see them, and the diff one event caused.

Pure: events, a deployed definition (its JSON) and plain values in, rows out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.history import Change
from engine.runtime.task_facts import mask_id

KIND_LABELS = {
    "instance_started": "发起案件",
    "instance_completed": "案件办结",
    "instance_failed": "异常结束",
    "instance_terminated": "终止案件",
    "element_completed": "流程环节完成",
    "task_ready": "进入待办",
    "task_completed": "提交办理",
    "task_submission_failed": "提交后处理失败",
    "task_cancelled": "待办取消",
    "task_claimed": "认领任务",
    "task_unclaimed": "取消认领",
    "task_reassigned": "转交任务",
    "task_sent_back": "回退",
    "gateway_decided": "网关走向",
    "script_run": "系统计算",
    "connector_called": "调用接口",
    "connector_failed": "接口调用失败",
    "timer_armed": "设置定时器",
    "timer_fired": "定时器触发",
    "message_sent": "发送消息",
    "event_uncaught": "未捕获事件",
    "incident_raised": "发生故障",
    "incident_retried": "修正后重试",
    "incident_resolved": "故障排除",
    "sla_clock_started": "开始计时",
    "sla_clock_closed": "计时结束",
    "sla_paused": "暂停计时",
    "sla_resumed": "恢复计时",
    "sla_extended": "延期",
    "sla_warning": "时限预警",
    "sla_overdue": "时限超期（督办）",
    "deadline_recomputed": "到期日重算",
    "id_number_viewed": "查看完整身份证号",
    "document_downloaded": "下载材料",
    "dossier_exported": "导出一户一档",
    "notice_numbered": "出具文书",
    "handoff_opened": "推送联办事项",
    "partner_read": "联办部门查看",
    "partner_leased": "联办系统获取",
    "partner_lease_extended": "联办系统延长锁定",
    "partner_signed": "联办部门签收",
    "partner_returned": "联办部门退回",
    "partner_result": "联办部门反馈结果",
    "webhook_delivered": "推送通知送达",
    "webhook_dead_lettered": "推送通知失败",
    "webhook_requeued": "推送通知重投",
}
CHANGE_LABELS = {"added": "新增", "removed": "删除", "changed": "修改"}
ID_KEYS = frozenset({"id_number"})


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def field_titles(definition: Mapping[str, Any]) -> dict[str, str]:
    """Data key → the title the procedure's forms give it (first title wins)."""
    titles: dict[str, str] = {}

    def walk(schema: Any) -> None:
        if isinstance(schema, Mapping):
            for key, prop in (schema.get("properties") or {}).items():
                if isinstance(prop, Mapping) and isinstance(prop.get("title"), str):
                    titles.setdefault(str(key), prop["title"])
            for value in schema.values():
                walk(value)
        elif isinstance(schema, list):
            for value in schema:
                walk(value)

    forms = [definition.get("start_form")]
    forms += [t.get("form") for t in (definition.get("user_tasks") or {}).values() if isinstance(t, Mapping)]
    for form in forms:
        if isinstance(form, Mapping):
            walk(form.get("schema"))
    return titles


def process_elements(definition: Mapping[str, Any]) -> frozenset[str] | None:
    """The element ids of the instance's own process (not of the processes it calls)."""
    spec = definition.get("spec")
    top = spec.get("spec") if isinstance(spec, Mapping) else None
    names = top.get("task_specs") if isinstance(top, Mapping) else None
    return frozenset(map(str, names)) if isinstance(names, Mapping) else None


def id_values(data: Any) -> Iterator[str]:
    """Every 身份证号 anywhere in the data."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in ID_KEYS and isinstance(value, str) and value:
                yield value
            else:
                yield from id_values(value)
    elif isinstance(data, list):
        for value in data:
            yield from id_values(value)


def masked_ids(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: mask_id(v) if k in ID_KEYS and isinstance(v, str) else masked_ids(v) for k, v in data.items()}
    if isinstance(data, list):
        return [masked_ids(v) for v in data]
    return data


def text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list) and all(not isinstance(v, Mapping | list) for v in value):
        return "、".join(text(v) for v in value) or "（空）"
    if isinstance(value, Mapping | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class Node:
    """One field of the data tree: a leaf has ``value``; an object or a list of objects has ``children``."""

    key: str
    label: str
    value: str | None = None
    children: list[Node] = field(default_factory=list)


def tree(data: Mapping[str, Any], titles: Mapping[str, str]) -> list[Node]:
    nodes = []
    for key, value in data.items():
        label = titles.get(str(key), str(key))
        if isinstance(value, Mapping) and value:
            nodes.append(Node(str(key), label, None, tree(value, titles)))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            items = [Node(f"{key}[{i}]", f"第 {i + 1} 项", None, tree(v, titles)) for i, v in enumerate(value)]
            nodes.append(Node(str(key), label, None, items))
        else:
            nodes.append(Node(str(key), label, text(value)))
    return nodes


@dataclass(frozen=True)
class ChangeRow:
    path: str
    label: str  # the last key's title
    kind: str
    old: str
    new: str


def change_rows(changes: tuple[Change, ...], titles: Mapping[str, str], *, full_ids: bool) -> list[ChangeRow]:
    rows = []
    for c in changes:
        last = c.path.rsplit(".", 1)[-1].split("[", 1)[0]
        old, new = (c.old, c.new) if full_ids else (masked_ids(c.old), masked_ids(c.new))
        if not full_ids and last in ID_KEYS:
            old = mask_id(old) if isinstance(old, str) else old
            new = mask_id(new) if isinstance(new, str) else new
        rows.append(
            ChangeRow(
                c.path,
                titles.get(last, last),
                CHANGE_LABELS.get(c.kind, c.kind),
                "" if c.kind == "added" else text(old),
                "" if c.kind == "removed" else text(new),
            )
        )
    return rows
