"""Jinja2 templates (task instructions, written notices) under the sandbox's budgets.

Jinja's own sandbox keeps a template away from Python's internals, but not
from the machine: ``{{ 'a' * 10**10 }}`` asks for 10 GB, nested ``range``
loops ran for 21 s and printed 300 MB. Here a template renders

* with the scripts' CPU and memory budget (:class:`engine.sandbox.watch.Watch`):
  every call, attribute, item, operator, filter and ``{% for %}`` item ticks
  it, so the budget is checked in the rendering thread itself. No watchdog
  interrupt: delivered asynchronously it can land between taking a lock and
  the ``with`` that releases it (under a tracer such as coverage's it did,
  and the run hung); what ticks nothing is one C call, bounded by the size checks;
* with the scripts' size checks (:mod:`engine.sandbox.sizes`,
  :mod:`engine.sandbox.methods`) before ``*``, ``**``, ``+``, ``%``, the text
  methods and the filters that can build something big (``center``, ``replace``…);
* with ``range()`` capped at :data:`MAX_RANGE` and the output capped at
  ``output_chars``.

Compile-time folding is off for the checked operators (Jinja folds only what
its sandbox does not intercept), so a template is never evaluated while it
is parsed. :func:`engine.sandbox.template_checks.unbounded` refuses at deploy
what can be seen to be too big without running anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import BaseLoader, Template, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.errors import JiuzhuError
from engine.sandbox.guards import Guards
from engine.sandbox.methods import checked_args
from engine.sandbox.sizes import TEXT, number, text_size, unit
from engine.sandbox.watch import Abort, Watch

MAX_RANGE = 10_000  # Jinja's own sandbox allows 100,000
TEXT_TYPES = (str, bytes, list, tuple, dict)


class TemplateBudgetError(JiuzhuError):
    """A template was refused or stopped by its budget."""

    kind = "invalid"
    default_code = "TEMPLATE_BUDGET"


@dataclass(frozen=True)
class TemplateLimits:
    cpu_seconds: float = 1.0
    memory_bytes: int = 64 * 1024 * 1024
    output_chars: int = 256 * 1024


class _Generator(CodeGenerator):
    """Jinja's code generator, with ``a ~ b`` sized before it is joined and
    every ``{% for %}`` walking its items through :meth:`BudgetedEnvironment.ticking`.

    ``~`` compiles to a join no sandbox hook sees; doubling a text forty
    times in a ``namespace`` would ask for a terabyte between two ticks.
    """

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        ticking = nodes.Call(nodes.EnvironmentAttribute("ticking"), [node.iter], [], None, None, lineno=node.lineno)
        loop = nodes.For(node.target, ticking, node.body, node.else_, node.test, node.recursive, lineno=node.lineno)
        loop.set_environment(self.environment)
        super().visit_For(loop, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.join_checked({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BudgetedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, metered."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})
    code_generator_class = _Generator

    def __init__(self, limits: TemplateLimits | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.limits = limits or TemplateLimits()
        self.guards = Guards(self.limits.memory_bytes)
        self._local = threading.local()
        self.globals["range"] = self._range
        self.filters = {name: self._metered(name, f) for name, f in self.filters.items()}

    # --- metering ---------------------------------------------------------------------

    def _tick(self) -> None:
        watch: Watch | None = getattr(self._local, "watch", None)
        if watch is not None:
            watch.tick()

    def _range(self, *args: Any) -> range:
        self._tick()
        r = range(*args)
        if len(r) > MAX_RANGE:
            raise Abort("TEMPLATE_RANGE", f"的 range() 过长：{len(r)} 项，上限 {MAX_RANGE} 项")
        return r

    def ticking(self, iterable: Any) -> Iterator[Any]:
        """What a ``{% for %}`` walks: one tick per item, as a script's loop ticks, so an
        empty nested loop is stopped by the budget too."""
        for item in iterable:
            self._tick()
            yield item

    def _metered(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        check = _FILTER_CHECKS.get(name)

        def metered(*args: Any, **kwargs: Any) -> Any:
            self._tick()
            if check is not None:
                check(self, args, kwargs)
            return real(*args, **kwargs)

        for attribute in ("jinja_pass_arg",):  # pass_context / pass_environment / pass_eval_context
            if hasattr(real, attribute):
                setattr(metered, attribute, getattr(real, attribute))
        return metered

    # --- the sandbox's hooks ----------------------------------------------------------

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self._tick()
        self.guards.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self._tick()
        value = super().getattr(obj, attribute)
        if isinstance(obj, TEXT_TYPES) and callable(value) and not isinstance(value, Undefined):
            return self.guards.getattr(obj, attribute)  # str.center, str.replace… with their size checks
        return value

    def join_checked(self, join: Callable[[Any], str], parts: tuple[Any, ...]) -> str:
        self._tick()
        size = sum(len(p) * unit(p) if isinstance(p, str) else text_size(p, self.limits.memory_bytes) for p in parts)
        self.guards.check_size(size, "拼接结果")
        return join(parts)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self._tick()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self._tick()
        return super().call(__context, __obj, *args, **kwargs)

    # --- rendering --------------------------------------------------------------------

    def compile_budgeted(self, source: str) -> Template:
        """Jinja folds constant filters while compiling: their size checks may refuse here already."""
        try:
            return self.from_string(source)
        except Abort as abort:
            raise TemplateBudgetError("模板" + abort.message, code=abort.code) from None

    def render_budgeted(self, template: Template, data: Mapping[str, Any]) -> str:
        """The template's text for `data`, or :class:`TemplateBudgetError` (code, Chinese message)."""
        limits = self.limits
        watch = Watch(limits.cpu_seconds, limits.memory_bytes)
        previous = getattr(self._local, "watch", None)
        self._local.watch = watch
        try:
            try:
                return self._collect(template.generate(**data), watch)
            finally:
                self._local.watch = previous
        except Abort as abort:
            raise TemplateBudgetError("模板" + abort.message, code=abort.code) from None
        except MemoryError:
            raise TemplateBudgetError(
                f"模板占用内存超出预算 {limits.memory_bytes} 字节", code="SCRIPT_MEMORY"
            ) from None

    def _collect(self, chunks: Iterator[str], watch: Watch) -> str:
        out: list[str] = []
        size, cap = 0, self.limits.output_chars
        for chunk in chunks:
            size += len(chunk)
            if size > cap:
                raise Abort("TEMPLATE_OUTPUT", f"输出过长：超过 {cap} 个字符")
            watch.tick()
            out.append(chunk)
        watch.check_cpu()
        return "".join(out)


def _width_check(position: int, keyword: str) -> Callable[[BudgetedEnvironment, tuple[Any, ...], dict[str, Any]], None]:
    """A filter whose argument is a width: the text it makes grows with it (center, indent)."""

    def check(env: BudgetedEnvironment, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        width = kwargs.get(keyword, args[position] if len(args) > position else 0)
        if isinstance(width, int) and width > env.limits.output_chars:
            raise Abort("TEMPLATE_OUTPUT", f"的宽度参数过大：{width}，上限 {env.limits.output_chars}")
        text = args[position - 1] if len(args) >= position else None
        if isinstance(text, str) and isinstance(width, int):  # indent: every line gets the width
            env.guards.check_size((text.count("\n") + 1) * max(width, 0) + len(text), "缩进结果")

    return check


def _replace_check(env: BudgetedEnvironment, args: tuple[Any, ...], _kwargs: dict[str, Any]) -> None:
    if len(args) >= 4 and isinstance(args[1], TEXT):  # (eval_context, text, old, new)
        checked_args(env.guards, args[1], "replace", (str(args[2]), str(args[3])), {})


def _format_check(env: BudgetedEnvironment, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args and isinstance(args[0], str | bytes):
        env.guards.check_printf(args[0], tuple(args[1:]) or tuple(kwargs.values()))


def _sum_check(_env: BudgetedEnvironment, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    start = kwargs.get("start", args[3] if len(args) > 3 else 0)  # (environment, iterable, attribute, start)
    if isinstance(start, TEXT):  # sum of lists concatenates quadratically in C
        raise Abort("TEMPLATE_FORBIDDEN", "的 sum 只能对数字求和")


def _count_check(position: int) -> Callable[[BudgetedEnvironment, tuple[Any, ...], dict[str, Any]], None]:
    """batch(n), slice(n): the number of pieces."""

    def check(_env: BudgetedEnvironment, args: tuple[Any, ...], _kwargs: dict[str, Any]) -> None:
        if len(args) > position and number(args[position]) > MAX_RANGE:
            raise Abort("TEMPLATE_RANGE", f"的分组数过大：{args[position]}，上限 {MAX_RANGE}")

    return check


# Jinja's filters and where their arguments are (after the environment or
# evaluation context some of them are passed first).
_FILTER_CHECKS: dict[str, Callable[[BudgetedEnvironment, tuple[Any, ...], dict[str, Any]], None]] = {
    "center": _width_check(1, "width"),
    "indent": _width_check(1, "width"),
    "wordwrap": _width_check(2, "width"),
    "truncate": _width_check(2, "length"),
    "replace": _replace_check,
    "format": _format_check,
    "sum": _sum_check,
    "batch": _count_check(1),
    "slice": _count_check(1),
}


def environment(
    limits: TemplateLimits | None = None, loader: BaseLoader | None = None, **options: Any
) -> BudgetedEnvironment:
    return BudgetedEnvironment(limits, loader=loader, **options)
