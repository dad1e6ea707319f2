"""Where in a decision table a lint problem is, in a designer's words.

Deploy locates a DMN problem by element id (``tier_rule_2_in``); the
decision-table editor shows no ids, so the studio names the decision, the
rule's row number and the column's label instead (决策「低保保障金分档」第 2
条规则，输入列「家庭月人均收入 ÷ 月低保标准」).
"""

from __future__ import annotations

from typing import Any

from engine.deploy.model_xml import XmlDoc, local_name, parse_xml
from jiuzhu.studio.layout import kind

COLUMN_KINDS = {"inputEntry": "input", "input": "input", "inputExpression": "input",
                "outputEntry": "output", "output": "output"}  # fmt: skip
KIND_LABELS = {"input": "输入列", "output": "输出列"}


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element if local_name(c) == name]


def _ancestor(element: Any, name: str) -> Any:
    while element is not None and local_name(element) != name:
        element = element.getparent()
    return element


def _column(table: Any, element: Any, column_kind: str) -> tuple[int, Any] | None:
    """The column (1-based index and its header element) ``element`` belongs to."""
    header = _ancestor(element, column_kind)
    headers = _children(table, column_kind)
    if header is not None and header in headers:
        return headers.index(header) + 1, header
    entry = _ancestor(element, f"{column_kind}Entry")
    rule = entry.getparent() if entry is not None else None
    if rule is None:
        return None
    index = _children(rule, f"{column_kind}Entry").index(entry)
    return index + 1, headers[index] if index < len(headers) else None


def _label(header: Any) -> str | None:
    if header is None:
        return None
    expression = next((e for e in header.iter() if local_name(e) == "text" and (e.text or "").strip()), None)
    return header.get("label") or header.get("name") or (expression.text.strip() if expression is not None else None)


def where(doc: XmlDoc, element_id: str | None) -> dict[str, Any] | None:
    """The decision, rule row and column of an element of a DMN file (None when not in a decision)."""
    element = doc.by_id.get(element_id or "")
    decision = _ancestor(element, "decision") if element is not None else None
    if element is None or decision is None:
        return None
    found: dict[str, Any] = {"decision": decision.get("id"), "decision_name": decision.get("name") or None,
                             "rule": None, "column": None, "column_kind": None}  # fmt: skip
    table = _ancestor(element, "decisionTable")
    parts = [f"决策「{found['decision_name'] or found['decision']}」"]
    if table is not None:
        rule = _ancestor(element, "rule")
        if rule is not None:
            found["rule"] = _children(table, "rule").index(rule) + 1
            parts.append(f"第 {found['rule']} 条规则")
        column_kind = COLUMN_KINDS.get(local_name(element)) or next(
            (COLUMN_KINDS[local_name(a)] for a in element.iterancestors() if local_name(a) in COLUMN_KINDS), None
        )
        column = _column(table, element, column_kind) if column_kind else None
        if column_kind and column is not None:
            index, header = column
            found["column_kind"] = column_kind
            found["column"] = _label(header) or f"第 {index} 列"
            parts.append(f"{KIND_LABELS[column_kind]}「{found['column']}」")
        elif element is table:
            parts.append("决策表")
    found["text"] = "，".join(parts)
    return found


def locate(problems: list[dict[str, Any]], files: dict[str, str]) -> list[dict[str, Any]]:
    """The problems, each of a DMN file given its ``where`` (None for the others)."""
    docs: dict[str, XmlDoc | None] = {}
    for problem in problems:
        name = problem.get("file")
        problem["where"] = None
        if not name or kind(name) != "dmn" or name not in files:
            continue
        if name not in docs:
            parsed = parse_xml(name, files[name].encode("utf-8"), code="DMN_INVALID")
            docs[name] = parsed if isinstance(parsed, XmlDoc) else None
        doc = docs[name]
        problem["where"] = where(doc, problem.get("element_id")) if doc is not None else None
    return problems
