"""Deep copies of case data, as ``copy.deepcopy`` makes them, without its per-value dispatch.

Task data is JSON-like (dicts with string keys, lists, text, numbers, dates),
and SpiffWorkflow copies a parent's whole data into every task it reaches
(G1, :mod:`engine.runtime.spiff_patches`), so this copy is most of what a
step costs. Plain dicts and lists are walked here; values that cannot change
are shared, as ``copy.deepcopy`` shares text and numbers; anything else
(tuples, sets, subclasses, objects) goes to ``copy.deepcopy`` itself with the
same memo, so aliasing inside the data and cycles come out as ``copy.deepcopy``
would leave them.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

__all__ = ["data_copy"]

T = TypeVar("T")

# Exact types only: a subclass may carry mutable state of its own.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, Decimal, date, datetime, time, timedelta, UUID})


def data_copy(value: T) -> T:
    """A deep copy of ``value``, equal to ``copy.deepcopy(value)``."""
    if type(value) in _IMMUTABLE:
        return value
    return _copy(value, {})


def _copy(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind is dict:
        done = memo.get(id(value), memo)
        if done is not memo:
            return done
        new: dict[Any, Any] = {}
        memo[id(value)] = new
        for key, item in value.items():
            if type(key) is not str:
                key = _copy(key, memo) if type(key) not in _IMMUTABLE else key
            new[key] = item if type(item) in _IMMUTABLE else _copy(item, memo)
        return new
    if kind is list:
        done = memo.get(id(value), memo)
        if done is not memo:
            return done
        items: list[Any] = []
        memo[id(value)] = items
        append = items.append
        for item in value:
            append(item if type(item) in _IMMUTABLE else _copy(item, memo))
        return items
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value, memo)
