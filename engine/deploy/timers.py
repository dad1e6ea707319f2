"""The timer-expression dialect adapter.

SpiffWorkflow evaluates timer text as a Python expression, so the ISO-8601
literals Camunda and the MIWG models write unquoted (``PT5M``) would only fail
when the timer arms, in a running instance. Here they are rewritten into
quoted Python strings before the parser sees them, and everything else is
checked now: literals with our bounded parser, expressions
through the sandbox, and cron, JUEL and naive datetimes are refused.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from lxml import etree

from engine.deploy.expressions import ScriptChecker, sandbox_problem
from engine.deploy.model_xml import BPMN_NS, XmlDoc, local_name
from engine.deploy.support import is_python, juel_or_feel
from engine.errors import Location, Problem, ScriptError
from engine.timebounds import KINDS, Cycle, TimeLimits, TimerValueError, checked

DEFAULT_LIMITS = TimeLimits()

_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = rf"P(?=\d|T\d)(?:{_NUMBER}[YMWD])*(?:T(?:{_NUMBER}[HMS])+)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T[\d:.,]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_WEEK = r"\d{4}-?W\d{2}-?\d(?:T[\d:.,]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_PART = rf"(?:{_DURATION}|{_DATETIME})"
ISO_LITERAL = re.compile(rf"^(?:{_DURATION}|{_DATETIME}|{_WEEK}|R\d*(?:/{_PART}){{1,2}})$")
CRON = re.compile(r"^\S+(?:\s+\S+){4,6}$")
_CRON_FIELD = re.compile(r"^(?:[\d*?/,\-LW#]+|[A-Z]{3}(?:[-,][A-Z]{3})*)$")


def _naive(moment: datetime) -> bool:
    return moment.tzinfo is None


def literal_error(kind: str, value: str, limits: TimeLimits = DEFAULT_LIMITS) -> tuple[str, str] | None:
    """(code, why) SpiffWorkflow must not be given ``value`` for this timer kind, or None.

    Read with our bounded parser (:mod:`engine.timebounds`), never SpiffWorkflow's
    own: its month loop would run for hours on ``P99999999Y``."""
    try:
        parsed = checked(kind, value, limits)
    except TimerValueError as exc:
        return exc.code, exc.message
    moments = [parsed] if isinstance(parsed, datetime) else []
    if isinstance(parsed, Cycle):
        moments = [m for m in (parsed.start, parsed.end) if m is not None]
    if any(_naive(m) for m in moments):
        where = "循环周期中的日期时间" if isinstance(parsed, Cycle) else "日期时间"
        return "TIMER_INVALID", f"{where}必须带时区偏移（如 +08:00），否则会按服务器导入时的固定偏移解释"
    return None


def adapt_timers(
    doc: XmlDoc,
    process: Any,
    sandbox: ScriptChecker,
    problems: list[Problem],
    flagged: set[str],
    limits: TimeLimits = DEFAULT_LIMITS,
) -> None:
    """Rewrite and check every timer in ``process`` in place; a literal beyond
    ``limits`` is refused (``TIMER_OUT_OF_RANGE``), located at the event and field."""
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
            where = replace(doc.locate(event, line_of=element), field=local_name(element))
            error = _adapt(element, sandbox, where, problems, limits)
            if error:
                problems.append(Problem(error[0], error[1], where))
                flagged.add(location.element_id or "")


def _adapt(
    element: Any, sandbox: ScriptChecker, location: Any, problems: list[Problem], limits: TimeLimits
) -> tuple[str, str] | None:
    kind = local_name(element)
    text = (element.text or "").strip()
    if not text:
        return "TIMER_INVALID", f"计时器的{KINDS[kind]}为空"
    if not is_python(element.get("language")):
        return "TIMER_INVALID", f"计时器表达式语言 {element.get('language')} 不受支持，只支持 Python"
    dialect = juel_or_feel(text)
    if dialect:
        return "TIMER_INVALID", f"计时器使用了 {dialect} 表达式（{text[:80]}），请改用 ISO-8601 文本或 Python 表达式"
    if ISO_LITERAL.match(text):
        element.text = f'"{text}"'  # the dialect adapter: Camunda's bare literal becomes a Python string
        return literal_error(kind, text, limits)
    if CRON.match(text) and ("*" in text or "?" in text) and all(_CRON_FIELD.match(f) for f in text.split()):
        return "TIMER_INVALID", f"不支持 cron 表达式（{text}），请改用 ISO-8601 循环周期，如 R/PT5M"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = None
    if isinstance(value, str):
        return literal_error(kind, value, limits)
    try:
        sandbox.check(text, "eval", location)
    except ScriptError as exc:
        problem = sandbox_problem(exc, location)
        problems.append(Problem(problem.code, f"计时器表达式「{text[:60]}」：{problem.message}", problem.location))
    except Exception as exc:
        problems.append(Problem("SCRIPT_SYNTAX", f"无法检查计时器表达式「{text[:60]}」：{exc}", location))
    return None


def timer_problems(kind: str, text: str, sandbox: ScriptChecker, limits: TimeLimits = DEFAULT_LIMITS) -> list[Problem]:
    """What deploy would say about one timer's text (``kind``: timeDate, timeDuration or timeCycle).

    The studio checks a timer as it is typed with this, the very path
    :func:`adapt_timers` takes for each timer of a model."""
    element = etree.Element(f"{{{BPMN_NS}}}{kind}")
    try:
        element.text = text
    except ValueError:  # NUL, control characters, lone surrogates: no BPMN file can hold them
        return [Problem("TIMER_INVALID", "计时器表达式含有不可见的控制字符，请删除后重新输入", Location(field=kind))]
    problems: list[Problem] = []
    error = _adapt(element, sandbox, Location(field=kind), problems, limits)
    if error:
        problems.append(Problem(error[0], error[1], Location(field=kind)))
    return problems
