"""The restricted environment every BPMN and DMN expression and script runs in.

SpiffWorkflow ``exec``s scripts and ``eval``s conditions, timers, DMN cells,
message payloads and correlation keys as plain Python (notes §2.10, G7). A
:class:`Sandbox` runs them in-process instead, because gateway conditions run
constantly and must stay cheap:

* compile time (:mod:`engine.sandbox.policy`): RestrictedPython plus our
  policy, cached per source: no imports, no underscore names or attributes,
  no ``open``/``exec``/``eval``/``compile``/``globals``…, no reading of the
  system clock (``.now``, ``.today``…: refused at deploy, not mid-instance);
* run time (:mod:`engine.sandbox.guards`): guarded attribute access, and
  operations and builtins (``*``, ``list(s)``, ``s.split()``, ``[*s]``,
  ``str(rows)``…) that refuse oversized results before computing them;
* a watch (:mod:`engine.sandbox.watch`): CPU budget and memory growth,
  checked from a tick the policy puts into every loop, function and
  comprehension, and whenever the guards let a big allocation through;
* after a script, inside the same budget: what it leaves in the task data
  must be storable as JSON (string keys, finite floats) and, serialized,
  stay under ``data_bytes`` (1 MiB unless configured).

Every failure is a :class:`ScriptError` with a stable code: ``SCRIPT_SYNTAX``,
``SCRIPT_FORBIDDEN``, ``SCRIPT_TIMEOUT``, ``SCRIPT_MEMORY``, ``SCRIPT_RUNTIME``,
plus ``SCRIPT_NAME_CONFLICT`` and ``SERVICE_UNAVAILABLE``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import reprlib
from collections.abc import Callable, Mapping
from types import CodeType
from typing import Any, Literal

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.errors import JiuzhuError, Location, ScriptError
from engine.runtime.connectors import Connectors
from engine.sandbox.guards import Guards
from engine.sandbox.policy import (
    CATCHABLE_EXCEPTIONS,
    FILENAME,
    FORBIDDEN_NAMES,
    NOUN,
    Refusal,
    at_line,
    compile_source,
)
from engine.sandbox.readonly import addresses
from engine.sandbox.sizes import text_size
from engine.sandbox.storable import Storable
from engine.sandbox.watch import Abort, Watch, run

__all__ = ["Sandbox", "SandboxEnvironment", "SandboxScriptEngine", "find_script_error"]

# Serialized task data a script may leave behind. Task data is copied into every
# task and persisted with each step, so this is far below the memory budget; a
# household case with all its members and documents' metadata is a few KB.
DATA_BYTES = 1024 * 1024
# Clock-free alternatives the engine's helpers (engine/sla/functions.py) offer.
_CLOCK_ALTERNATIVES = {
    "today": "today()",
    "add_working_days": "add_working_days(start, n)",
    "add_natural_days": "add_natural_days(start, n)",
    "sla_due": "sla_due(stage)",
}


def _clock_hint(helpers: Mapping[str, Any]) -> str:
    offered = [call for name, call in _CLOCK_ALTERNATIVES.items() if name in helpers]
    if offered:
        return "，请改用 " + "、".join(offered)
    return "，请从流程数据中读取日期"


def _describe(exc: BaseException) -> str:
    """str(exc), unless printing its arguments would be huge (``raise ValueError(rows)``)."""
    if text_size(exc, 4096) <= 4096:
        return str(exc)
    return reprlib.repr(exc.args[0] if len(exc.args) == 1 else exc.args)


def _user_line(exc: BaseException) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _hint(exc: Exception, names: Mapping[str, Any]) -> str:
    """SpiffWorkflow's "did you mean", which it no longer sees once the NameError is wrapped."""
    missing = getattr(exc, "name", None)
    if not isinstance(exc, NameError) or not isinstance(missing, str):
        return ""
    close = difflib.get_close_matches(missing, [n for n in names if not n.startswith("_")], n=1)
    return f"（是否想写 {close[0]}？）" if close else ""


class Sandbox:
    def __init__(
        self,
        *,
        cpu_seconds: float = 1.0,
        memory_bytes: int = 64 * 1024 * 1024,
        data_bytes: int = DATA_BYTES,
        helpers: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        """`data_bytes`: how big, about as serialized JSON, the task data may be after a script."""
        if cpu_seconds <= 0 or memory_bytes <= 0 or data_bytes <= 0:
            raise ValueError("cpu_seconds, memory_bytes and data_bytes must be positive")
        self.cpu_seconds = cpu_seconds
        self.memory_bytes = memory_bytes
        self.data_bytes = min(data_bytes, memory_bytes)
        self.helpers: dict[str, Callable[..., Any]] = dict(helpers or {})
        unusable = [
            n
            for n in self.helpers
            if not n.isidentifier() or n.startswith("_") or n in FORBIDDEN_NAMES or n in CATCHABLE_EXCEPTIONS
        ]
        if unusable:
            raise ValueError(f"helper names scripts cannot use: {unusable}")
        self._clock_hint = _clock_hint(self.helpers)
        self._guards = Guards(memory_bytes, clock_hint=self._clock_hint)
        self._protected = self._guards.namespace()
        self._read_only = self._guards.namespace(read_only=True)

    def check(self, source: str, mode: Literal["eval", "exec"], location: Location | None = None) -> None:
        """Compile under the restrictions (deploy time). Raise ScriptError(code=...) located with `location`."""
        self._compiled(source, mode, location)

    def evaluate(self, expression: str, context: dict[str, Any], *, external: Mapping[str, Any] | None = None) -> Any:
        """Value of `expression`; sees the helpers, `external` and `context` (which wins), as SpiffWorkflow does,
        through a read-only door: an expression cannot change case data (engine/sandbox/readonly.py)."""
        code = self._compiled(expression, "eval")
        namespace = {**self.helpers, **(external or {}), **context, **self._read_only}
        return self._run(code, namespace, "eval")

    def execute(self, script: str, context: dict[str, Any], *, external: Mapping[str, Any] | None = None) -> None:
        """Run `script` with `context` as its globals, like SpiffWorkflow's TaskDataEnvironment.execute.

        Afterwards only plain, storable data is left in `context`: helpers,
        builtins, functions and values the serializer cannot store are removed.
        Data that would be stored wrongly (non-string keys, inf/nan) or that is
        bigger than `data_bytes` fails the script (see :class:`engine.sandbox.storable.Storable`).
        If the script fails, its top-level assignments are undone (SpiffWorkflow
        keeps them), so a refused script leaves no half-built or oversized
        values behind; changes made inside existing lists and dicts stay.
        """
        external = external or {}
        clashes = sorted((set(self.helpers) | set(external)) & set(context))
        if clashes:
            raise ScriptError(
                f"流程数据中的变量与预定义函数同名，请改名：{', '.join(clashes)}", code="SCRIPT_NAME_CONFLICT"
            )
        code = self._compiled(script, "exec")
        injected = {**self.helpers, **external, **self._protected}
        before = dict(context)
        known = frozenset(addresses(before.values()))
        context.update(injected)

        def keep_storable(watch: Watch) -> None:  # inside the run's CPU budget
            storable = Storable(self.data_bytes, watch, known)
            for key in list(context):
                ours = key in injected or (key.startswith("_") and key not in before)
                if ours or not storable.keep(key, context[key]):
                    del context[key]

        try:
            self._run(code, context, "exec", keep_storable)
        except BaseException:
            context.clear()
            context.update(before)
            raise

    def environment(self) -> SandboxEnvironment:
        return SandboxEnvironment(self)

    def script_engine(self, connectors: Connectors | None = None) -> SandboxScriptEngine:
        return SandboxScriptEngine(environment=self.environment(), connectors=connectors)

    def _compiled(self, source: str, mode: Literal["eval", "exec"], location: Location | None = None) -> CodeType:
        compiled = compile_source(source, mode)
        if not isinstance(compiled, Refusal):
            return compiled
        message = compiled.message
        if compiled.clock:  # only this sandbox knows which helpers it offers instead
            message += self._clock_hint + at_line(compiled.line)
        where = location or Location()
        where = dataclasses.replace(where, line=where.line or compiled.line)
        raise ScriptError(message, code=compiled.code, location=where)

    def _run(
        self,
        code: CodeType,
        namespace: dict[str, Any],
        mode: Literal["eval", "exec"],
        finish: Callable[[Watch], None] | None = None,
    ) -> Any:
        """Run `code`; then, in the same budget, drain a lazy value or call `finish`."""
        noun = NOUN[mode]
        try:
            result, watch = run(code, namespace, cpu_seconds=self.cpu_seconds, memory_bytes=self.memory_bytes)
            if finish is not None:
                finish(watch)
            elif hasattr(type(result), "__next__"):  # (x for x in items): drained before the budget is gone
                result = self._guards.collect(result, "结果", watch)
            return result
        except Abort as abort:
            raise ScriptError(
                noun + abort.message, code=abort.code, location=Location(line=_user_line(abort))
            ) from None
        except ScriptError:
            raise  # from a helper: already says what went wrong
        except MemoryError as exc:
            message = f"{noun}占用内存超出预算 {self.memory_bytes} 字节"
            raise ScriptError(message, code="SCRIPT_MEMORY", location=Location(line=_user_line(exc))) from exc
        except Exception as exc:
            message = f"{noun}运行出错：{type(exc).__name__}: {_describe(exc)}{_hint(exc, namespace)}"
            raise ScriptError(message, code="SCRIPT_RUNTIME", location=Location(line=_user_line(exc))) from exc


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment, backed by a Sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(dict(sandbox.helpers))
        self.sandbox = sandbox

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return self.sandbox.evaluate(expression, context, external=external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        self.sandbox.execute(script, context, external=external_context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptError("本环境没有接入连接器，无法调用外部服务", code="SERVICE_UNAVAILABLE")


class SandboxScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that reports ScriptErrors with their line and code,
    and calls service tasks' connectors."""

    def __init__(self, *, environment: SandboxEnvironment, connectors: Connectors | None = None) -> None:
        super().__init__(environment=environment)
        self.connectors = connectors

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as exc:
            if isinstance(exc.__context__, ScriptError):
                exc.add_note(f"[{exc.__context__.code}] {exc.__context__.message}")
            raise

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        # The base class refers to an undefined `script` here and raises NameError (notes §2.10).
        try:
            if self.connectors is None:
                return self.environment.call_service(task.data, **kwargs)
            params = {name: p["value"] for name, p in (kwargs.get("operation_params") or {}).items()}
            spec = task.task_spec
            response = self.connectors.call(str(task.id), spec.bpmn_id or spec.name, kwargs["operation_name"], params)
            return json.dumps(response, ensure_ascii=False)  # SpiffWorkflow json.loads it into the result variable
        except Exception as exc:
            raise WorkflowTaskException(f"{type(exc).__name__}: {exc}", task=task, exception=exc) from exc

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Any:
        if not isinstance(err, ScriptError):
            return super().create_task_exec_exception(task, script, err)
        line = err.location.line or 0
        lines = script.splitlines()
        error_line = lines[line - 1] if 0 < line <= len(lines) else ""
        return WorkflowTaskException(
            f"[{err.code}] {err.message}", task=task, exception=err, line_number=line, error_line=error_line
        )


def find_script_error(exc: BaseException, kind: type[JiuzhuError] = ScriptError) -> JiuzhuError | None:
    """Walk __cause__/__context__ and SpiffWorkflow's WorkflowTaskException.error to find the ScriptError
    (or other Jiuzhu error of `kind`) behind an engine failure."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        for linked in (
            getattr(current, "error", None),
            getattr(current, "exception", None),
            current.__cause__,
            current.__context__,
        ):
            if isinstance(linked, BaseException):
                todo.append(linked)
    return None
