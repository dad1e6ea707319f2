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
  ``getattr(x, 'append')``) or an assignment expression (``:=``);
* at run time, :func:`detached` gives the expression a copy of exactly the
  data names its code refers to (``co_names`` of the code and of its nested
  lambdas and comprehensions; the sandbox has no ``globals()``/``vars()``, so
  a name is the only way to reach a value). A write that could not be seen at
  deploy (``getattr(items, 'ap' + 'pend')``) changes the copy, which is
  thrown away. Names an expression does not mention are not copied, so a
  condition on ``approved`` costs nothing however big the household list is.
"""

from __future__ import annotations

import ast
import copy
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from decimal import Decimal
from types import CodeType
from typing import Any
from uuid import UUID

__all__ = [
    "ADDRESS",
    "addresses",
    "MUTATING_METHODS",
    "detached",
    "referenced_names",
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

_IMMUTABLE = frozenset({str, int, float, bool, type(None), Decimal, date, timedelta, UUID})


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


@functools.lru_cache(maxsize=4096)
def referenced_names(code: CodeType) -> frozenset[str]:
    """Every name `code` and the code nested in it (lambdas, comprehensions) may load."""
    names: set[str] = set()
    todo = [code]
    while todo:
        current = todo.pop()
        names.update(current.co_names)
        names.update(current.co_freevars)
        todo.extend(c for c in current.co_consts if isinstance(c, CodeType))
    return frozenset(names)


def detached(namespace: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A copy of the values of `names` in `namespace` that shares no list, dict or set with it."""
    return {name: _copy(namespace[name]) for name in names if name in namespace}


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    # JSON-shaped case data by hand: several times faster than copy.deepcopy, one frame a level.
    if kind is dict:
        out = {}
        for key, item in value.items():
            out[key] = item if type(item) in _IMMUTABLE else _copy(item)
        return out
    if kind is list:
        return [item if type(item) in _IMMUTABLE else _copy(item) for item in value]
    return copy.deepcopy(value)


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
