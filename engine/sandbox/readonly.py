"""Expressions read case data; they never write it.

SpiffWorkflow evaluates gateway conditions, timers, multi-instance
cardinalities and conditions, DMN cells, message payloads, correlation keys
and connector parameters against the task data itself. The names an
expression sees are a fresh dict already, but the lists and dicts in it are
the instance's own: ``items.append('pwned') or len(items) > 0`` would change
the case behind a ``gateway_decided`` event that records no diff. Only script
tasks may change data, and their changes are audited as ``script_run`` diffs
(engine/runtime/observe.py).

Two layers:

* at deploy (and compile) time, :func:`write_in_expression` refuses an
  expression that visibly writes: a call of a mutating method
  (``append``, ``update``, ``pop``, ``setdefault``…, also as
  ``list.append(items, x)`` or ``getattr(x, 'append')``) or an assignment
  expression (``:=``);
* at run time, an expression gets a read-only view of the data without any
  copy. An expression has no statements, so it cannot assign into a list or
  dict; ``setattr``, ``vars`` and underscore names (``__setitem__``) are
  refused by the policy; none of the builtins it sees changes its arguments.
  What is left is calling a mutating method, and every method is fetched
  through the guarded ``getattr`` (``_getattr_`` for ``a.b``, and the
  ``getattr`` builtin), which for expressions is
  ``engine/sandbox/guards.py::Guards.read_getattr``: it refuses the
  :data:`MUTATING_METHODS` whatever the object. So a write the deploy check
  cannot see (``getattr(items, 'ap' + 'pend')``) fails the expression with
  ``EXPRESSION_WRITES`` (a located incident) and the data stays as it was.
  Nothing is copied, so a condition costs the same however big the
  household list it reads.

Scripts are not read-only: their changes are what ``script_run`` audits.
:func:`addresses` serves the other half of "only data in case data": a
script may not leave a new object repr with a memory address behind
(engine/sandbox/storable.py).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = [
    "ADDRESS",
    "addresses",
    "MUTATING_METHODS",
    "write_in_expression",
]

# Methods of the builtin containers that change them in place.
MUTATING_METHODS = frozenset(
    """
    append extend insert remove pop popitem clear sort reverse update setdefault add discard
    intersection_update difference_update symmetric_difference_update
    """.split()
)

# A default object repr carries the object's memory address: <function f at 0x7f…>,
# <engine.sandbox.guards.Guards object at 0x7f…>. None belongs in case data.
ADDRESS = re.compile(r"<[^<>\n]{0,300}? at 0x[0-9a-fA-F]{4,}>")


def write_in_expression(tree: ast.AST) -> tuple[str, int] | None:
    """(Chinese reason, line) if the parsed expression visibly writes, else None."""
    for node in ast.walk(tree):
        if isinstance(node, ast.NamedExpr):
            return "表达式不能赋值（:=）", node.lineno
        if not isinstance(node, ast.Call):
            continue
        func, method = node.func, None
        if isinstance(func, ast.Attribute):
            method = func.attr
        elif isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) > 1:
            attr = node.args[1]
            method = attr.value if isinstance(attr, ast.Constant) and isinstance(attr.value, str) else None
        if method in MUTATING_METHODS:
            return f"表达式不能修改流程数据（调用了 {method}）", node.lineno
    return None


def addresses(values: Iterable[Any]) -> Iterator[str]:
    """Every object repr with an address (:data:`ADDRESS`) in the strings inside `values`, walked iteratively."""
    todo = list(values)
    seen: set[int] = set()
    while todo:
        value = todo.pop()
        kind = type(value)
        if kind is str:
            if "at 0x" in value:
                yield from ADDRESS.findall(value)
        elif kind is dict or kind is list or kind is tuple or isinstance(value, dict | list | tuple):
            if id(value) in seen:
                continue
            seen.add(id(value))
            todo.extend(value.values() if isinstance(value, dict) else value)
