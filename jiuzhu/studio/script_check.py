"""Inline checks of the code a designer types in the studio, by deploy's own checks.

A script task's script and a pre/post-script compile as deploy compiles them
(``Sandbox.check`` in exec mode); a flow condition as an expression (eval
mode, which also refuses writes to case data, engine/sandbox/readonly.py); a
user task's instructions as deploy parses the template
(engine/deploy/instructions.py); a timer as deploy adapts and checks it
(engine/deploy/timers.py). So what is flagged here is what publish refuses.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from engine.deploy import instructions
from engine.deploy.timers import timer_problems
from engine.errors import ScriptError
from engine.sandbox.scripts import Sandbox
from engine.timebounds import TimeLimits

Kind = Literal["script", "condition", "template", "timeDate", "timeDuration", "timeCycle"]
_LINE = re.compile(r"第 (\d+) 行")


def _problem(code: str, message: str, line: int | None) -> dict[str, Any]:
    if line is None:
        found = _LINE.search(message)
        line = int(found.group(1)) if found else None
    return {"code": code, "message": message, "line": line}


def check(kind: Kind, text: str, sandbox: Sandbox, limits: TimeLimits) -> list[dict[str, Any]]:
    """Located problems (line, Chinese message, stable code); empty when deploy would accept ``text``."""
    if kind == "template":
        broken = instructions.syntax_error(text)
        return [] if broken is None else [_problem("INSTRUCTIONS_TEMPLATE", broken, None)]
    if kind in ("timeDate", "timeDuration", "timeCycle"):
        return [_problem(p.code, p.message, p.location.line) for p in timer_problems(kind, text, sandbox, limits)]
    if not text.strip():  # an empty condition is no condition (the panel then removes it)
        return [_problem("SCRIPT_SYNTAX", "脚本任务没有脚本内容", None)] if kind == "script" else []
    try:
        sandbox.check(text, "exec" if kind == "script" else "eval")
    except ScriptError as exc:
        return [_problem(exc.code, exc.message, exc.location.line)]
    return []
