"""Regular expressions a form names (``pattern``, ``patternProperties``) that
could hold a worker: Python's ``re`` backtracks, so ``^(a+)+$`` against thirty
``a`` and a ``!`` runs for minutes, and the pattern is typed by a designer.

Refused statically, before anything is matched: a variable quantifier inside
another one (``(a+)+``, ``(\\d*,?)*``: star height above one) unless each round
of the outer one holds a character the inner ones cannot match (``(-[A-Z]+)+``),
and, under a variable quantifier, alternatives that can start with the same
character (``(ab|\\w\\w)+``). Both are the shapes of exponential backtracking;
a fixed count (``(\\d{3}-){2}``) or single-character choices (``[a-z_]+``, which
the parser folds into one set) are not. Deploy and the studio's lint refuse such a
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
        return _walk(list(sre_parse.parse(pattern)))
    except (re.error, OverflowError, FutureWarning):  # FutureWarning: only where warnings are errors
        return None  # not a regular expression at all: the meta-schema check says so
    except RecursionError:
        return "正则表达式的括号嵌套过深"


def _variable(low: int, high: int) -> bool:
    return low != high and high > 1


NESTED = "正则表达式中量词嵌套（如 (a+)+），匹配可能耗时失控；请改写为不嵌套的形式，如 a+"
OVERLAP = "正则表达式在量词内的分支可能以同一字符开头（如 (ab|\\w\\w)+），匹配可能耗时失控；请改写"


def _walk(items: list[Any]) -> str | None:
    for op, value in items:
        if op in _REPEATS:
            low, high, body = value
            if _variable(low, high):
                inner = _repeats(list(body))
                if inner and not _delimited(list(body), inner):
                    return NESTED
                if any(_overlap(alternatives) for alternatives in _branches(list(body))):
                    return OVERLAP
            found = _walk(list(body))
        elif op is sre.BRANCH:
            found = next((r for a in value[1] if (r := _walk(list(a)))), None)
        else:
            found = next((r for p in _children(value) if (r := _walk(list(p)))), None)
        if found:
            return found
    return None


def _repeats(items: list[Any]) -> list[list[Any]]:
    """The bodies of the variable quantifiers within ``items``."""
    found = []
    for op, value in items:
        if op in _REPEATS and _variable(value[0], value[1]):
            found.append(list(value[2]))
        nested = [value[2]] if op in _REPEATS else value[1] if op is sre.BRANCH else _children(value)
        for part in nested:
            found += _repeats(list(part))
    return found


def _branches(items: list[Any]) -> list[list[list[Any]]]:
    found = []
    for op, value in items:
        if op is sre.BRANCH:
            found.append([list(a) for a in value[1]])
        nested = [value[2]] if op in _REPEATS else value[1] if op is sre.BRANCH else _children(value)
        for part in nested:
            found += _branches(list(part))
    return found


def _delimited(body: list[Any], inner: list[list[Any]]) -> bool:
    """Each round of the outer quantifier must match a character none of the inner ones can
    (``(-[A-Z0-9]+)+``, ``(\\d+,)*``): the rounds then split one way only, nothing backtracks."""
    marks = [value for op, value in _unwrapped(body) if op is sre.LITERAL]
    bodies = [_unwrapped(b) for b in inner]
    return any(all(len(b) == 1 and not _may_match(b[0], chr(mark)) for b in bodies) for mark in marks)


def _unwrapped(items: list[Any]) -> list[Any]:
    """A group alone, as its content: ``(-[A-Z]+)`` is ``-[A-Z]+``."""
    while len(items) == 1 and items[0][0] is sre.SUBPATTERN:
        items = list(items[0][1][-1])
    return items


_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D", sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S", sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W",
}  # fmt: skip


def _may_match(item: tuple[Any, Any], char: str) -> bool:
    """Whether one pattern item can match ``char`` (True when it cannot be told)."""
    op, value = item
    code = ord(char)
    if op is sre.LITERAL:
        return bool(value == code)
    if op is sre.NOT_LITERAL:
        return bool(value != code)
    if op is not sre.IN:
        return True
    negate, hit = False, False
    for kind, arg in value:
        if kind is sre.NEGATE:
            negate = True
        elif kind is sre.LITERAL:
            hit = hit or arg == code
        elif kind is sre.RANGE:
            hit = hit or arg[0] <= code <= arg[1]
        elif kind is sre.CATEGORY and arg in _CATEGORIES:
            hit = hit or re.fullmatch(_CATEGORIES[arg], char) is not None
        else:
            return True
    return hit != negate


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
