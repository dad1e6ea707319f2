"""Compiling every expression and script of a built spec through the sandbox.

SpiffWorkflow only compiles a condition or script when a running instance
reaches it. Walking the built task specs (rather than regexing XML) finds
exactly the text the engine will evaluate, and the sandbox refuses bad or
forbidden code at deploy time, located at the element that carries it.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask

from engine.errors import Location, Problem, ScriptError

Mode = Literal["eval", "exec"]

# Task-spec attributes holding Python, how the engine runs them, and what designers call them.
_TASK_CODE: tuple[tuple[str, Mode, str], ...] = (
    ("prescript", "exec", "前置脚本"),
    ("postscript", "exec", "后置脚本"),
    ("cardinality", "eval", "多实例次数"),
    ("condition", "eval", "循环或完成条件"),
    ("completion_condition", "eval", "完成条件"),
)


class ScriptChecker(Protocol):
    """What deployment needs from ``engine.sandbox.scripts.Sandbox``."""

    def check(self, source: str, mode: Mode, location: Location | None = None) -> None: ...


class Locator(Protocol):
    def element(self, file: str, element_id: str) -> Location: ...

    def flow(self, file: str, source: str, target: str) -> Location: ...


def sandbox_problem(exc: ScriptError, location: Location) -> Problem:
    # Keep the sandbox's location only if it is at least as precise as ours.
    own = exc.location
    return Problem(exc.code, exc.message, own if own.file and own.element_id else location)


class ExpressionChecker:
    def __init__(self, sandbox: ScriptChecker, locator: Locator, flagged: set[tuple[str, str]]) -> None:
        self.sandbox = sandbox
        self.locator = locator
        self.flagged = flagged  # (file, element id) already refused for a foreign dialect
        self.problems: list[Problem] = []
        self._done: set[str] = set()

    def check(self, source: Any, mode: Mode, location: Location, label: str) -> None:
        if source is None or (location.file or "", location.element_id or "") in self.flagged:
            return
        # Name the expression: one element can carry several (cardinality and completion condition).
        shown = " ".join(str(source).split())
        prefix = f"{label}「{shown[:60]}{'…' if len(shown) > 60 else ''}」："
        try:
            self.sandbox.check(str(source), mode, location)
        except ScriptError as exc:
            problem = sandbox_problem(exc, location)
            self.problems.append(Problem(problem.code, prefix + problem.message, problem.location))
        except Exception as exc:  # a sandbox bug must still become a located refusal
            message = f"{prefix}无法检查：{type(exc).__name__}: {exc}"
            self.problems.append(Problem("SCRIPT_SYNTAX", message, location))

    def spec(self, spec: Any) -> None:
        """Check one process (or subprocess) spec once, however often it is called."""
        key = f"{spec.file}\0{spec.name}"
        if key in self._done:
            return
        self._done.add(key)
        file = spec.file or ""
        completion = getattr(spec, "completion_condition", None)  # ad-hoc subprocess
        if completion is not None:
            self.check(completion, "eval", self.locator.element(file, spec.name), "完成条件")
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None):
                self._task(file, task_spec)

    def _task(self, file: str, task_spec: Any) -> None:
        location = self.locator.element(file, task_spec.bpmn_id)
        if isinstance(task_spec, ScriptTask):
            if not (task_spec.script or "").strip():
                self.problems.append(Problem("SCRIPT_SYNTAX", "脚本任务没有脚本内容", location))
            else:
                self.check(task_spec.script, "exec", location, "脚本")
        for name, parameter in (getattr(task_spec, "operation_params", None) or {}).items():
            self.check(parameter.get("value"), "eval", location, f"连接器参数 {name}")
        for attribute, mode, label in _TASK_CODE:
            self.check(getattr(task_spec, attribute, None), mode, location, label)
        for condition, target in getattr(task_spec, "cond_task_specs", None) or []:
            if condition is not None:
                target_id = target.removesuffix(".BoundaryEventSplit")
                flow = self.locator.flow(file, task_spec.bpmn_id, target_id)
                self.check(condition.args[0], "eval", flow, "顺序流条件")
        definition = getattr(task_spec, "event_definition", None)
        if definition is not None:
            self._event(file, definition, location)

    def _event(self, file: str, definition: Any, location: Location) -> None:
        if isinstance(definition, TimerEventDefinition):
            return  # checked (and possibly rewritten) by engine.deploy.timers before parsing
        for child in getattr(definition, "event_definitions", None) or []:
            self._event(file, child, location)
        self.check(getattr(definition, "expression", None), "eval", location, "事件表达式")  # payload / condition
        for prop in getattr(definition, "correlation_properties", None) or []:
            self.check(prop.retrieval_expression, "eval", self.locator.element(file, prop.name), "关联属性表达式")
        for prop in getattr(definition, "process_correlations", None) or []:
            self.check(prop.retrieval_expression, "eval", location, "关联属性表达式")
