"""The methods of builtin types that consume an iterable or build text
(``extend``, ``update``, ``union``…, ``split``, ``join``, ``ljust``…), and how
big their result is about to be."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.sandbox.sizes import DICT_ITEM, PIECE, SET_ITEM, SLOT, TEXT, Budget, count, length, number, unit

_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# Method name → the types on which it is guarded.
GUARDED_METHODS: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "translate"), TEXT),
    **dict.fromkeys(("split", "rsplit", "splitlines"), TEXT),
    "encode": (str,),
    "decode": (bytes, bytearray),
    "to_bytes": (int,),
    "as_integer_ratio": (Decimal,),
    "extend": (list,),
    "update": (dict, set),
    **dict.fromkeys(("union", "intersection", "difference", "symmetric_difference"), (set, frozenset)),
    **dict.fromkeys(("intersection_update", "difference_update", "symmetric_difference_update"), (set,)),
    "copy": (list, dict, set),
    "fromkeys": (dict,),
}
# Methods whose result is at most this many bytes per element of the instance
# (plus one): on a small instance they are handed out unchecked.
BOUNDED = {"split": SLOT + PIECE, "rsplit": SLOT + PIECE, "splitlines": SLOT + PIECE, "encode": 4, "decode": 4}
BOUNDED.update(dict.fromkeys(("copy", "intersection", "difference"), DICT_ITEM))
_IN_PLACE = frozenset({"extend", "update", "intersection_update", "difference_update", "symmetric_difference_update"})


def checked_args(
    budget: Budget, inst: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Check the result size of a method before calling it; may return replaced args."""
    size, what = 0, "文本结果"
    if isinstance(inst, list | dict | set | frozenset):
        per_item = SLOT if isinstance(inst, list) else DICT_ITEM if isinstance(inst, dict) else SET_ITEM
        args = tuple(budget.sized(arg, per_item, "集合结果") for arg in args)
        added = sum(length(arg) or 0 for arg in args)
        # extend, update…: grows by what is added; union, copy…: a new container
        size = (added if name in _IN_PLACE else len(inst) + added) * per_item
        what = "集合结果"
    elif name == "as_integer_ratio":
        budget.check_decimal(inst)
    elif name == "to_bytes":
        size = number(kwargs.get("length", args[0] if args else 1))
    elif not isinstance(inst, TEXT):
        return args  # str.split(1): the method says what is wrong
    elif name == "join" and args:
        items = args[0]
        if isinstance(items, TEXT):
            size = len(items) * (1 + len(inst))
        else:
            items = budget.sized(items, SLOT, "文本结果")
            if not isinstance(items, list | tuple):
                items = list(items)
            try:
                size = sum(map(len, items)) + len(inst) * max(len(items) - 1, 0)
            except TypeError:
                size = 0  # not all text: join itself says so
        size *= unit(inst)
        args = (items, *args[1:])
    elif name in ("ljust", "rjust", "center", "zfill") and args:
        size = number(args[0]) * unit(inst)
    elif name == "expandtabs":
        size = len(inst) * number(args[0] if args else kwargs.get("tabsize", 8)) * unit(inst)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], TEXT) and isinstance(args[1], TEXT):
        size = (len(inst) + count(inst, args[0]) * max(len(args[1]) - len(args[0]), 0)) * unit(inst)
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, TEXT)), default=1)
        size = len(inst) * longest * unit(inst)
    elif name in ("split", "rsplit", "splitlines"):
        size = _pieces(inst, name, args, kwargs) * PIECE + len(inst) * unit(inst)
    elif name in ("encode", "decode"):
        size = len(inst) * 4
    budget.check_size(size, what)
    return args


def _pieces(inst: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """At most how many pieces a split makes."""
    if name == "splitlines":
        breaks = _LINE_BREAKS if isinstance(inst, str) else (b"\n", b"\r")
        return sum(inst.count(b) for b in breaks) + 1
    sep = args[0] if args else kwargs.get("sep")
    limit = args[1] if len(args) > 1 else kwargs.get("maxsplit", -1)
    pieces = len(inst) // 2 + 1 if sep is None else count(inst, sep) + 1
    if isinstance(limit, int) and limit >= 0:
        pieces = min(pieces, limit + 1)
    return pieces
