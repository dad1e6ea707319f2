"""The difference between two versions of a procedure, from their files alone.

Pure: two ``{file name: bytes}`` maps in (a version's model, DMN and forms,
and the time-limit policies in force; see :mod:`jiuzhu.studio.version_files`),
a :class:`VersionDiff` out. Files are matched by their base name (a deployment
of ``processes/`` names ``dibao/dibao.bpmn``, one of ``processes/dibao``
``dibao.bpmn``), policies by their ``id``.

- BPMN: elements by id, added / removed / changed, each change a fact
  (:mod:`jiuzhu.studio.bpmn_facts`) with its old and new text; flows included.
- Forms (JSON Schema): fields by path (``members[].id_number``), their title,
  type, required, format, enum and bounds; a UI schema by key path.
- Policies (``*.sla.json``): the policy's own keys, the overall limit, the
  extension and each stage: name, limit, unit, warn before, escalation,
  counting and the legal source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jiuzhu.studio.bpmn_facts import TYPE_LABELS, fact_label, read_model

FIELD_KEYS = ("title", "type", "required", "format", "enum", "const", "minimum", "maximum", "minLength", "maxLength")
FIELD_LABELS = {
    "title": "标题", "type": "类型", "required": "必填", "format": "格式", "enum": "可选值", "const": "固定值",
    "minimum": "最小值", "maximum": "最大值", "minLength": "最短长度", "maxLength": "最长长度", "value": "值",
}  # fmt: skip
STAGE_KEYS: tuple[str, ...] = ("name", "limit", "unit", "warn_before", "escalate_to", "counts_in_overall")
STAGE_KEYS += ("roll_to_working_day", "starts_at", "approver_role", "source")
STAGE_LABELS = {
    "name": "名称", "limit": "时限", "unit": "单位", "warn_before": "提前预警", "escalate_to": "督办对象",
    "counts_in_overall": "计入总时限", "roll_to_working_day": "顺延至工作日", "starts_at": "起算环节",
    "approver_role": "批准角色", "source": "法律依据", "title": "政策名称", "version": "政策版本",
    "processes": "适用流程", "regions": "适用地区", "pause_stages": "暂停计时环节", "procedure": "事项",
}  # fmt: skip
KIND_LABELS = {"added": "新增", "removed": "删除", "changed": "修改"}


@dataclass(frozen=True)
class FactChange:
    key: str
    label: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Change:
    """One element, form field or policy row that was added, removed or changed."""

    kind: str  # added | removed | changed
    file: str
    key: str  # element id, field path, or stage key
    label: str  # what a person calls it: the element's name, the field's title, the stage's name
    type_label: str = ""
    facts: tuple[FactChange, ...] = ()

    def describe(self) -> str:
        """The change as one Chinese sentence."""
        what = (
            f"{self.type_label}「{self.label}」（{self.key}）" if self.type_label else f"「{self.label}」（{self.key}）"
        )
        if self.kind != "changed":
            return f"{KIND_LABELS[self.kind]}{what}"
        details = "；".join(f"{f.label}：{_shown(f.old)} → {_shown(f.new)}" for f in self.facts)
        return f"修改{what}：{details}"


@dataclass(frozen=True)
class FileChange:
    kind: str
    file: str


@dataclass(frozen=True)
class VersionDiff:
    elements: tuple[Change, ...] = ()
    forms: tuple[Change, ...] = ()
    policies: tuple[Change, ...] = ()
    files: tuple[FileChange, ...] = ()
    problems: tuple[str, ...] = ()  # files that could not be read, in Chinese
    markers: dict[str, list[str]] = field(default_factory=dict)  # "from"/"to" side → ids per kind

    def to_json(self) -> dict[str, Any]:
        def change(c: Change) -> dict[str, Any]:
            facts = [{"key": f.key, "label": f.label, "old": f.old, "new": f.new} for f in c.facts]
            return {"kind": c.kind, "file": c.file, "key": c.key, "label": c.label, "type_label": c.type_label,
                    "facts": facts, "text": c.describe()}  # fmt: skip

        return {
            "elements": [change(c) for c in self.elements],
            "forms": [change(c) for c in self.forms],
            "policies": [change(c) for c in self.policies],
            "files": [{"kind": f.kind, "file": f.file} for f in self.files],
            "problems": list(self.problems),
            "markers": self.markers,
        }


def _shown(value: str | None) -> str:
    if value is None or value == "":
        return "（无）"
    return value if len(value) <= 120 else value[:117] + "…"


def _base(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _compare(
    old: Mapping[str, Mapping[str, str]], new: Mapping[str, Mapping[str, str]], labels: Any
) -> Iterator[tuple[str, str, Mapping[str, str], tuple[FactChange, ...]]]:
    """(kind, key, the facts shown, fact changes) for every key of either side that differs."""
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before is None and after is not None:
            yield "added", key, after, ()
        elif after is None and before is not None:
            yield "removed", key, before, ()
        elif before is not None and after is not None and before != after:
            facts = tuple(
                FactChange(k, labels(k), before.get(k), after.get(k))
                for k in sorted(before.keys() | after.keys())
                if before.get(k) != after.get(k)
            )
            yield "changed", key, after, facts


def diff_versions(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> VersionDiff:
    olds, news = {_base(n): c for n, c in old.items()}, {_base(n): c for n, c in new.items()}
    files = tuple(
        FileChange(kind, name)
        for name in sorted(olds.keys() | news.keys())
        for kind in [_file_kind(olds.get(name), news.get(name))]
        if kind
    )
    problems: list[str] = []
    elements, markers = _models(olds, news, problems)
    forms = _forms(olds, news, problems)
    policies = _policies(olds, news, problems)
    return VersionDiff(tuple(elements), tuple(forms), tuple(policies), files, tuple(problems), markers)


def _file_kind(old: bytes | None, new: bytes | None) -> str | None:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "changed" if old != new else None


def _models(
    olds: Mapping[str, bytes], news: Mapping[str, bytes], problems: list[str]
) -> tuple[list[Change], dict[str, list[str]]]:
    changes: list[Change] = []
    markers: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    for name in sorted(n for n in olds.keys() | news.keys() if n.endswith(".bpmn")):
        sides = []
        for side in (olds.get(name), news.get(name)):
            read = read_model(name, side) if side is not None else {}
            if isinstance(read, str):
                problems.append(f"{name}：{read}")
                read = {}
            sides.append(read)
        for kind, key, shown, facts in _compare(sides[0], sides[1], fact_label):
            label = shown.get("name") or key
            changes.append(Change(kind, name, key, label, TYPE_LABELS.get(shown.get("type", ""), ""), facts))
            markers[kind].append(key)
    return changes, markers


def _json(name: str, content: bytes | None, problems: list[str]) -> Any:
    if content is None:
        return None
    try:
        return json.loads(content)
    except ValueError as exc:
        problems.append(f"{name}：不是有效的 JSON（{exc}）")
        return None


def _forms(olds: Mapping[str, bytes], news: Mapping[str, bytes], problems: list[str]) -> list[Change]:
    changes: list[Change] = []
    names = sorted(n for n in olds.keys() | news.keys() if n.endswith(".json") and not n.endswith(".sla.json"))
    for name in names:
        before, after = _json(name, olds.get(name), problems), _json(name, news.get(name), problems)
        ui = "uischema" in name.lower()
        flatten = _ui_keys if ui else _schema_fields
        rows_before = flatten(before) if isinstance(before, dict) else {}
        rows_after = flatten(after) if isinstance(after, dict) else {}
        for kind, key, shown, facts in _compare(rows_before, rows_after, _field_label):
            changes.append(Change(kind, name, key, shown.get("title") or key, "界面设置" if ui else "字段", facts))
    return changes


def _field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def _schema_fields(schema: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Every field by its path; a field required only under an ``if`` is 条件必填."""
    fields: dict[str, dict[str, str]] = {}

    def value(v: Any) -> str:
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)

    def walk(node: Any, path: str, conditional: bool) -> None:
        if not isinstance(node, dict):
            return
        required = set(node.get("required") or []) if isinstance(node.get("required"), list) else set()
        properties = node.get("properties")
        for key, child in properties.items() if isinstance(properties, dict) else []:
            child_path = f"{path}.{key}" if path else key
            row = fields.setdefault(child_path, {})
            if isinstance(child, dict):
                for k in FIELD_KEYS:
                    if k != "required" and k in child and k not in row:
                        row[k] = value(child[k])
            if key in required:
                row["required"] = "条件必填" if conditional else "是"
            walk(child, child_path, conditional)
        for key in properties.keys() if isinstance(properties, dict) else []:
            fields[f"{path}.{key}" if path else key].setdefault("required", "否")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]", conditional)
        for key in ("then", "else"):
            walk(node.get(key), path, True)
        for key in ("allOf", "anyOf", "oneOf"):
            for part in node.get(key) or [] if isinstance(node.get(key), list) else []:
                walk(part, path, conditional or key != "allOf")
        for key in required - set(properties or {}):
            if path or conditional:  # a required key declared elsewhere (an if/then adds it)
                fields.setdefault(f"{path}.{key}" if path else key, {})["required"] = "条件必填"

    walk(schema, "", False)
    return fields


def _ui_keys(ui: dict[str, Any]) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict) and node:
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else key)
        else:
            rows[path or "(根)"] = {"value": json.dumps(node, ensure_ascii=False, sort_keys=True)}

    walk(ui, "")
    return rows


def _policies(olds: Mapping[str, bytes], news: Mapping[str, bytes], problems: list[str]) -> list[Change]:
    def by_id(files: Mapping[str, bytes]) -> dict[str, tuple[str, dict[str, Any]]]:
        found = {}
        for name in sorted(n for n in files if n.endswith(".sla.json")):
            body = _json(name, files[name], problems)
            if isinstance(body, dict):
                found[str(body.get("id") or name)] = (name, body)
        return found

    before, after = by_id(olds), by_id(news)
    changes: list[Change] = []
    for policy_id in sorted(before.keys() | after.keys()):
        name = (after.get(policy_id) or before[policy_id])[0]
        rows_before = _policy_rows(before[policy_id][1]) if policy_id in before else {}
        rows_after = _policy_rows(after[policy_id][1]) if policy_id in after else {}
        if policy_id not in before or policy_id not in after:
            kind = "added" if policy_id in after else "removed"
            title = str((after.get(policy_id) or before[policy_id])[1].get("title") or policy_id)
            changes.append(Change(kind, name, policy_id, title, "时限政策"))
            continue
        for kind, key, shown, facts in _compare(rows_before, rows_after, lambda k: STAGE_LABELS.get(k, k)):
            label = shown.get("name") or {"(政策)": "政策本身", "overall": "总时限", "extension": "延长"}.get(key, key)
            changes.append(Change(kind, name, f"{policy_id}/{key}", label, "时限环节", facts))
    return changes


def _policy_rows(policy: dict[str, Any]) -> dict[str, dict[str, str]]:
    def text(v: Any) -> str:
        if isinstance(v, bool):
            return "是" if v else "否"
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

    own_keys: tuple[str, ...] = ("title", "version", "source", "processes", "regions", "pause_stages")
    rows: dict[str, dict[str, str]] = {"(政策)": {k: text(policy[k]) for k in own_keys if k in policy}}
    for key in ("overall", "extension"):
        if isinstance(policy.get(key), dict):
            rows[key] = {k: text(v) for k, v in policy[key].items() if k in STAGE_KEYS}
    stages = policy.get("stages")
    for stage, body in stages.items() if isinstance(stages, dict) else []:
        if isinstance(body, dict):
            rows[stage] = {k: text(v) for k, v in body.items() if k in STAGE_KEYS}
    return rows
