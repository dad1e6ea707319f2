"""The timer-expression dialect adapter.

SpiffWorkflow evaluates timer text as a Python expression, so the ISO-8601
literals Camunda and the MIWG models write unquoted (``PT5M``) would only fail
when the timer arms, in a running instance. Here they are rewritten into
quoted Python strings before the parser sees them, and everything else is
checked now: literals with SpiffWorkflow's own parsing helpers, expressions
through the sandbox, and cron, JUEL and naive datetimes are refused.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.deploy.expressions import ScriptChecker, sandbox_problem
from engine.deploy.model_xml import BPMN_NS, XmlDoc, local_name
from engine.deploy.support import is_python, juel_or_feel
from engine.errors import Problem, ScriptError

_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = rf"P(?=\d|T\d)(?:{_NUMBER}[YMWD])*(?:T(?:{_NUMBER}[HMS])+)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T[\d:.,]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_WEEK = r"\d{4}-?W\d{2}-?\d(?:T[\d:.,]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_PART = rf"(?:{_DURATION}|{_DATETIME})"
ISO_LITERAL = re.compile(rf"^(?:{_DURATION}|{_DATETIME}|{_WEEK}|R\d*(?:/{_PART}){{1,2}})$")
CRON = re.compile(r"^\S+(?:\s+\S+){4,6}$")
_CRON_FIELD = re.compile(r"^(?:[\d*?/,\-LW#]+|[A-Z]{3}(?:[-,][A-Z]{3})*)$")

KINDS = {"timeDate": "日期时间", "timeDuration": "时长", "timeCycle": "循环周期"}


def _naive(text: str) -> bool:
    if "W" in text.upper():  # ISO week date: only the time part may carry an offset
        time_part = text.upper().partition("T")[2]
        return not re.search(r"(Z|[+-]\d{2}(:?\d{2})?)$", time_part)
    return datetime.fromisoformat(text).tzinfo is None


def _cycle_error(value: str) -> str | None:
    """Mirror parse_iso_recurring_interval without its call to now() (the engine clock is not running here)."""
    if not value.upper().startswith("R"):
        return "循环周期必须是 ISO-8601 重复区间（如 R3/PT10M）"
    count, *parts = value.upper().replace("--", "/").strip("R").split("/")
    if (count and not count.isdigit()) or not 1 <= len(parts) <= 2:
        return "循环周期必须形如 R[次数]/时长、R[次数]/开始/时长 或 R[次数]/时长/结束"
    parsed = [TimerEventDefinition.parse_time_or_duration(part) for part in parts]
    if sum(isinstance(p, dict) for p in parsed) != 1:
        return "循环周期必须恰好包含一个时长"
    if any(not part.startswith("P") and _naive(part) for part in parts):
        return "循环周期中的日期时间必须带时区偏移（如 +08:00）"
    return None


def literal_error(kind: str, value: str) -> str | None:
    """Why SpiffWorkflow could not use ``value`` for this timer kind, or None."""
    try:
        if kind == "timeDuration":
            if not value.upper().startswith("P"):
                return "时长必须是 ISO-8601 时长（如 PT5M、P1D）"
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeDate":
            if value.upper().startswith("P"):
                return "timeDate 需要日期时间，不能是时长"
            TimerEventDefinition.parse_time_or_duration(value)
            if _naive(value):
                return "日期时间必须带时区偏移（如 +08:00），否则会按服务器导入时的固定偏移解释"
        elif error := _cycle_error(value):
            return error
    except Exception as exc:
        return f"不是有效的 ISO-8601 {KINDS[kind]}（{type(exc).__name__}: {exc}）"
    return None


def adapt_timers(doc: XmlDoc, process: Any, sandbox: ScriptChecker, problems: list[Problem], flagged: set[str]) -> None:
    """Rewrite and check every timer in ``process`` in place."""
    for definition in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        event = definition.getparent()
        times = [c for c in definition if local_name(c) in KINDS]
        location = doc.locate(event)
        if not times:
            message = "计时器事件没有定义时间（timeDate/timeDuration/timeCycle）"
            problems.append(Problem("TIMER_INVALID", message, location))
            flagged.add(location.element_id or "")
            continue
        for element in times:
            error = _adapt(element, sandbox, doc.locate(event, line_of=element), problems)
            if error:
                problems.append(Problem("TIMER_INVALID", error, doc.locate(event, line_of=element)))
                flagged.add(location.element_id or "")


def _adapt(element: Any, sandbox: ScriptChecker, location: Any, problems: list[Problem]) -> str | None:
    kind = local_name(element)
    text = (element.text or "").strip()
    if not text:
        return f"计时器的{KINDS[kind]}为空"
    if not is_python(element.get("language")):
        return f"计时器表达式语言 {element.get('language')} 不受支持，只支持 Python"
    dialect = juel_or_feel(text)
    if dialect:
        return f"计时器使用了 {dialect} 表达式（{text[:80]}），请改用 ISO-8601 文本或 Python 表达式"
    if ISO_LITERAL.match(text):
        element.text = f'"{text}"'  # the dialect adapter: Camunda's bare literal becomes a Python string
        return literal_error(kind, text)
    if CRON.match(text) and ("*" in text or "?" in text) and all(_CRON_FIELD.match(f) for f in text.split()):
        return f"不支持 cron 表达式（{text}），请改用 ISO-8601 循环周期，如 R/PT5M"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = None
    if isinstance(value, str):
        return literal_error(kind, value)
    try:
        sandbox.check(text, "eval", location)
    except ScriptError as exc:
        problem = sandbox_problem(exc, location)
        problems.append(Problem(problem.code, f"计时器表达式「{text[:60]}」：{problem.message}", problem.location))
    except Exception as exc:
        problems.append(Problem("SCRIPT_SYNTAX", f"无法检查计时器表达式「{text[:60]}」：{exc}", location))
    return None
