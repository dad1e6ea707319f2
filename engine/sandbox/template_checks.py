"""What a template can be seen to do without running it: refused at deploy.

Constant arithmetic is evaluated here with the sandbox's size checks first
(``'a' * 10**10`` is refused, not computed), ``range()`` with constant
arguments is measured, and nested ``for`` loops over constant ranges (or
names set to one) are multiplied out: past :data:`MAX_ITERATIONS` the template
is refused with its line. What depends on the data is left to the run-time
budget (:mod:`engine.sandbox.templates`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from jinja2 import nodes

from engine.sandbox.templates import MAX_RANGE, BudgetedEnvironment
from engine.sandbox.watch import Abort

MAX_ITERATIONS = 100_000  # loop bodies a template may run, all loops nested together

_UNKNOWN = object()
_BINOPS: dict[type[nodes.BinExpr], tuple[str, Callable[[Any, Any], Any]]] = {
    nodes.Add: ("+", operator.add),
    nodes.Sub: ("-", operator.sub),
    nodes.Mul: ("*", operator.mul),
    nodes.Div: ("/", operator.truediv),
    nodes.FloorDiv: ("//", operator.floordiv),
    nodes.Mod: ("%", operator.mod),
    nodes.Pow: ("**", operator.pow),
}


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Checker:
    def __init__(self, env: BudgetedEnvironment) -> None:
        self.env = env
        self.sizes: dict[str, int] = {}  # names set to something of a known length

    def const(self, node: nodes.Node) -> Any:
        """The node's value if it is a constant we can compute within the budget, else _UNKNOWN."""
        if isinstance(node, nodes.Const):
            return node.value
        if isinstance(node, nodes.List | nodes.Tuple):
            items = [self.const(item) for item in node.items]
            return _UNKNOWN if any(i is _UNKNOWN for i in items) else items
        if isinstance(node, nodes.Neg | nodes.Pos):
            value = self.const(node.node)
            if isinstance(value, int | float):
                return -value if isinstance(node, nodes.Neg) else value
            return _UNKNOWN
        if type(node) in _BINOPS and isinstance(node, nodes.BinExpr):
            left, right = self.const(node.left), self.const(node.right)
            if left is _UNKNOWN or right is _UNKNOWN:
                return _UNKNOWN
            symbol, apply = _BINOPS[type(node)]
            self.refuse_if(node, lambda: self.env.guards.check_binop(symbol, left, right))
            try:
                return apply(left, right)
            except (ArithmeticError, TypeError, ValueError):
                return _UNKNOWN  # the render will say what is wrong
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range":
            args = [self.const(a) for a in node.args]
            if node.kwargs or node.dyn_args or node.dyn_kwargs or any(a is _UNKNOWN for a in args):
                return _UNKNOWN
            try:
                r = range(*args)
            except (TypeError, ValueError):
                return _UNKNOWN
            if len(r) > MAX_RANGE:
                raise _Refused(node.lineno, f"的 range() 过长：{len(r)} 项，上限 {MAX_RANGE} 项")
            return r
        return _UNKNOWN

    def refuse_if(self, node: nodes.Node, check: Callable[[], None]) -> None:
        try:
            check()
        except Abort as abort:
            raise _Refused(node.lineno, abort.message) from None

    def length(self, node: nodes.Node) -> int | None:
        if isinstance(node, nodes.Name) and node.name in self.sizes:
            return self.sizes[node.name]
        value = self.const(node)
        return len(value) if isinstance(value, range | list | str) else None

    def walk(self, node: nodes.Node, runs: int) -> None:
        """`runs`: how many times this node is evaluated, as far as can be seen."""
        if isinstance(node, nodes.For):
            self.walk(node.iter, runs)
            size = self.length(node.iter)
            inner = runs * (size if size is not None else 1)
            if inner > MAX_ITERATIONS:
                raise _Refused(node.lineno, f"的嵌套循环共要执行 {inner} 次，上限 {MAX_ITERATIONS} 次")
            for child in [*node.body, *node.else_, *([node.test] if node.test else [])]:
                self.walk(child, inner)
            return
        if isinstance(node, nodes.Assign) and isinstance(node.target, nodes.Name):
            size = self.length(node.node)
            if size is not None:
                self.sizes[node.target.name] = size
        if isinstance(node, nodes.Expr):
            self.const(node)  # constant arithmetic, range(): refused here if too big
        if isinstance(node, nodes.Filter | nodes.Call):
            for arg in [*node.args, *(kw.value for kw in node.kwargs)]:
                value = self.const(arg)
                if isinstance(value, int) and value > self.env.limits.output_chars:
                    raise _Refused(node.lineno, f"的参数过大：{value}，上限 {self.env.limits.output_chars}")
        for child in node.iter_child_nodes():
            self.walk(child, runs)


def unbounded(env: BudgetedEnvironment, source: str) -> tuple[int, str] | None:
    """(line, why) for the first part of the template that is too big to render, or None.

    ``why`` reads after the word for the template (``模板`` + why). The source must parse.
    """
    try:
        _Checker(env).walk(env.parse(source), 1)
    except _Refused as refused:
        return refused.line, refused.message
    return None
