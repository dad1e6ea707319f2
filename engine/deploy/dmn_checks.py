"""Deploy-time checks for DMN decision tables.

SpiffWorkflow reads one decision table per file, implements only the UNIQUE
and COLLECT hit policies, and evaluates every cell as Python (notes §2.7). A
table that relies on anything else would decide wrongly without an error,
so it is refused here; cells are compiled the way ``DMNEngine`` will run them.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS

from engine.deploy.expressions import ExpressionChecker
from engine.deploy.model_xml import XmlDoc, local_name, namespace, xsd_problems
from engine.errors import Problem
from engine.sandbox.policy import syntax_words

HIT_POLICIES = {"UNIQUE", "COLLECT"}
# Same pattern DMNEngine.evaluate uses: a '?' outside quotes stands for the input value.
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_validators: dict[str, Any] = {}


def is_dmn(doc: XmlDoc) -> bool:
    return local_name(doc.root) == "definitions" and "DMN" in namespace(doc.root).upper()


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element if local_name(c) == name]


def decisions(doc: XmlDoc) -> list[Any]:
    return _children(doc.root, "decision")


def static_problems(doc: XmlDoc) -> list[Problem]:
    problems: list[Problem] = []
    no_output = [t for t in doc.root.iter() if local_name(t) == "decisionTable" and not _children(t, "output")]
    for table in no_output:
        message = "决策表没有输出列：至少需要一个输出（output），规则的结果写在输出列中"
        problems.append(Problem("DMN_NO_OUTPUT", message, doc.locate(table)))
    schema_path = SCHEMAS.get(namespace(doc.root))
    if schema_path is not None:
        if schema_path not in _validators:
            _validators[schema_path] = BpmnValidator(schema_path).validator
        # The schema's English for a table without outputs adds nothing to the message above.
        problems += [p for p in xsd_problems(doc, _validators[schema_path], code="DMN_INVALID")
                     if not _inside(doc, p, no_output)]  # fmt: skip
    found = decisions(doc)
    if not found:
        problems.append(Problem("DMN_INVALID", "DMN 文件中没有决策（decision）", doc.locate(doc.root)))
    for extra in found[1:]:
        problems.append(
            Problem("DMN_INVALID", "一个 DMN 文件只能包含一个决策（SpiffWorkflow 只读取第一个）", doc.locate(extra))
        )
    for decision in found[:1]:
        tables = _children(decision, "decisionTable")
        if len(tables) != 1:
            problems.append(Problem("DMN_INVALID", "决策必须恰好包含一个决策表（decisionTable）", doc.locate(decision)))
        for table in tables:
            policy = (table.get("hitPolicy") or "UNIQUE").upper()
            if policy not in HIT_POLICIES:
                message = f"不支持命中策略 {policy}，只支持 UNIQUE 与 COLLECT"
                problems.append(Problem("DMN_INVALID", message, doc.locate(table)))
            if table.get("aggregation"):
                message = f"不支持 COLLECT 聚合 {table.get('aggregation')}（SpiffWorkflow 会忽略它）"
                problems.append(Problem("DMN_INVALID", message, doc.locate(table)))
            problems += _output_syntax(doc, table)
    return problems


def _inside(doc: XmlDoc, problem: Problem, tables: list[Any]) -> bool:
    element = doc.by_id.get(problem.location.element_id or "")
    return element is not None and any(t is element or t in element.iterancestors() for t in tables)


def _output_syntax(doc: XmlDoc, table: Any) -> list[Problem]:
    """Output cells that are not Python: SpiffWorkflow would refuse the whole file
    in English, so each is named here, on its cell, before it is parsed."""
    problems = []
    for rule in _children(table, "rule"):
        for entry in _children(rule, "outputEntry"):
            text = next((t.text for t in entry if local_name(t) == "text"), None)
            if not text or not text.strip():
                continue
            try:
                compile(text.strip(), "<dmn>", "eval")
            except SyntaxError as exc:
                message = f"DMN 输出「{text.strip()[:60]}」：第 {exc.lineno or 1} 行有语法错误：{syntax_words(exc.msg)}"
                problems.append(Problem("SCRIPT_SYNTAX", message, doc.locate(entry)))
    return problems


def cell_expression(input_expression: str | None, text: str) -> str:
    """The Python ``DMNEngine`` evaluates for one input cell."""
    subject = input_expression or "dmninputexpr"
    if _QUESTION_MARK.search(text):
        return _QUESTION_MARK.sub("dmninputexpr", text)
    for candidate, compiled in ((text, f"({subject}) == ({text})"), (f"v {text}", f"({subject}) {text}")):
        try:
            ast.parse(candidate, mode="eval")
        except Exception:
            continue
        return compiled
    return text  # let the sandbox report the syntax error in the cell's own words


def check_decision(doc: XmlDoc, decision: Any, checker: ExpressionChecker) -> None:
    for table in decision.decisionTables:
        for column in table.inputs:
            checker.check(column.expression, "eval", doc.locate_id(column.id), "DMN 输入表达式")
        for rule in table.rules:
            for entry in rule.inputEntries:
                text = entry.text
                if text is None or text == "-":  # DMN's "any value"
                    continue
                location = doc.locate_id(entry.id)
                if not text.strip():
                    message = "DMN 单元格只有空白，运行时会出错；表示任意值请留空或写 -"
                    checker.problems.append(Problem("SCRIPT_SYNTAX", message, location))
                    continue
                checker.check(cell_expression(entry.input.expression, text), "eval", location, f"DMN 规则单元格 {text}")
            for entry in rule.outputEntries:
                if entry.text and entry.text.strip():
                    checker.check(entry.text, "eval", doc.locate_id(entry.id), "DMN 输出")
