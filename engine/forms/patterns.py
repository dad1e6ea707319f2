"""Regular expressions a form names (``pattern``, ``patternProperties``) that
could hold a worker: Python's ``re`` backtracks, so ``^(a+)+$`` against thirty
``a`` and a ``!`` runs for minutes, and the pattern is typed by a designer.

Refused statically, before anything is matched: a variable quantifier inside
another one (``(a+)+``, ``(\\d*,?)*``: star height above one) and, under a
variable quantifier, alternatives that can start with the same character
(``(ab|\\w\\w)+``). Both are the shapes of exponential backtracking; a fixed
count (``(\\d{3}-){2}``) or single-character choices (``[a-z_]+``, which the
parser folds into one set) are not. Deploy and the studio's lint refuse such a
form, located on the keyword; validation at run time (a form deployed before
this check) answers a field error instead of running the pattern."""

from __future__ import annotations

import re
import re._constants as sre  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from functools import lru_cache
from typing import Any

PATTERN_LIMIT = 1000  # characters; a form's pattern is a short shape, not a program
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_ANY_START = object()


@lru_cache(maxsize=512)
def unsafe_reason(pattern: str) -> str | None:
    """Why the pattern may backtrack without bound (Chinese), or None when it is safe to run."""
    if len(pattern) > PATTERN_LIMIT:
        return f"正则表达式过长（{len(pattern)} 个字符，上限 {PATTERN_LIMIT}）"
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None  # not a regular expression at all: the meta-schema check says so
    return _walk(list(parsed), inside=False)


def _variable(low: int, high: int) -> bool:
    return low != high and high > 1


def _walk(items: list[Any], *, inside: bool) -> str | None:
    for op, value in items:
        if op in _REPEATS:
            low, high, body = value
            variable = _variable(low, high)
            if variable and inside:
                return "正则表达式中量词嵌套（如 (a+)+），匹配可能耗时失控；请改写为不嵌套的形式，如 a+"
            found = _walk(list(body), inside=inside or variable)
        elif op is sre.BRANCH:
            alternatives = [list(a) for a in value[1]]
            if inside and _overlap(alternatives):
                return "正则表达式在量词内的分支可能以同一字符开头（如 (ab|\\w\\w)+），匹配可能耗时失控；请改写"
            found = next((r for a in alternatives if (r := _walk(a, inside=inside))), None)
        else:
            found = next((r for p in _children(value) if (r := _walk(list(p), inside=inside))), None)
        if found:
            return found
    return None


def _children(value: Any) -> list[Any]:
    """The sub-patterns held by a group, an assertion or a conditional."""
    if isinstance(value, sre_parse.SubPattern):
        return [value]
    if isinstance(value, (tuple, list)):
        return [c for v in value for c in _children(v)]
    return []


def _overlap(alternatives: list[list[Any]]) -> bool:
    starts: list[object] = []
    for alternative in alternatives:
        if not alternative:
            continue
        op, value = alternative[0]
        while op is sre.SUBPATTERN and value[-1]:
            op, value = value[-1][0]
        start = value if op is sre.LITERAL else _ANY_START
        if start is _ANY_START and starts or start in starts or _ANY_START in starts:
            return True
        starts.append(start)
    return False
