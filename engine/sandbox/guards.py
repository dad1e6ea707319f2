"""Runtime half of the sandbox: the guard functions and builtins user code sees.

The policy rewrites ``a.b``, ``a[b]``, ``a[i:j]``, ``a * b``, ``f"{x:>{w}}"``,
``[*s]``, ``{**d}`` and friends into calls of the functions here. Their job is
to refuse, before computing it, any single operation whose result would blow
the memory budget, and to charge the bytes of the big ones to the run's watch
(:mod:`engine.sandbox.watch`), so that many such operations in a row cannot
add up past the budget either; the tick is only the backstop for gradual
growth.

The builtins that build a container in one C call (``list``, ``tuple``,
``set``, ``frozenset``, ``dict``, ``sorted``, ``str``, ``int``) are replaced by
checked stand-ins: they estimate the result from the length of what they are
given (``len(source) × bytes per element``) before building it, and take an
iterator of unknown length (``enumerate``, ``zip``, ``map``…) in chunks,
checking size, memory and CPU time between chunks. ``isinstance(x, list)`` and
``dict.fromkeys`` work as usual. The same goes for the methods that consume an
iterable or split a text (``extend``, ``update``, ``union``…, ``split``,
``splitlines``, ``join``). The estimates and the budget are in
:mod:`engine.sandbox.sizes`, the sizes of those methods' results in
:mod:`engine.sandbox.methods`.
"""

from __future__ import annotations

import builtins as builtins_module
import operator
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from RestrictedPython.Guards import full_write_guard
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from engine.sandbox.methods import BOUNDED, GUARDED_METHODS, checked_args
from engine.sandbox.policy import CATCHABLE_EXCEPTIONS, CLOCK_ATTRIBUTES, CLOCK_REFUSAL
from engine.sandbox.readonly import MUTATING_METHODS
from engine.sandbox.sizes import (
    BYTES_PER_RANGE_ITEM,
    DICT_ITEM,
    SEQ,
    SET_ITEM,
    SHORT_TEXT,
    SLOT,
    SMALL,
    Budget,
    length,
    spec_size,
    unit,
)
from engine.sandbox.watch import Abort

__all__ = ["Abort", "Guards"]

_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "*": operator.mul,
    "**": operator.pow,
    "<<": operator.lshift,
    "%": operator.mod,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}
_SAFE_BUILTINS = """
    abs all any bool chr divmod enumerate filter float isinstance len map max min ord reversed zip
"""
_GUARDED_ATTRS = frozenset(GUARDED_METHODS) | CLOCK_ATTRIBUTES | {"format", "format_map"}
_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}  # f"{x!r:>9}"
_FIELD_ATTR = re.compile(r"\.([^.\[]*)")


def _forbid_attribute(name: str) -> None:
    if name.startswith("_") or name in INSPECT_ATTRIBUTES:
        raise Abort("SCRIPT_FORBIDDEN", f"不允许访问属性 {name}")


class _Formatter(string.Formatter):
    def __init__(self, guards: Guards) -> None:
        self.guards = guards

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        for attr in _FIELD_ATTR.findall(field_name):
            _forbid_attribute(attr)
        return super().get_field(field_name, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion:
            self.guards.check_size(self.guards.text_of(value), "格式化结果")
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        return self.guards.format_value(value, -1, format_spec)


class _Printer(PrintCollector):
    """``print`` in a script: collected, not written; what it prints is sized first."""

    guards: Guards

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        for value in objects:
            self.guards.check_text(value, "打印内容")
        super()._call_print(*objects, **kwargs)


class _Checked(type):
    """A builtin type as scripts see it: calling it checks the size first; isinstance and attributes as usual.

    Each checked type has its own subclass of this metaclass, whose ``__call__``
    is the checking builder itself: one Python call per ``str(x)``, not two.
    """

    wrapped: type

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls.wrapped)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls.wrapped)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls.wrapped, name)

    def __repr__(cls) -> str:
        return repr(cls.wrapped)


def _checked_type(wrapped: type, build: Callable[..., Any]) -> _Checked:
    kind = cast(type[_Checked], type(f"checked {wrapped.__name__}", (_Checked,), {"__call__": staticmethod(build)}))
    return kind(wrapped.__name__, (), {"wrapped": wrapped})


class Guards(Budget):
    """The guard functions and builtins for one memory budget."""

    def __init__(self, memory_bytes: int, *, clock_hint: str = "") -> None:
        super().__init__(memory_bytes)
        self.clock_hint = clock_hint
        self.formatter = _Formatter(self)

    # --- operators ---------------------------------------------------------------------

    def binop(self, op: str, a: Any, b: Any) -> Any:
        self.check_binop(op, a, b)
        return _BINOPS[op](a, b)

    def inplacevar(self, op: str, a: Any, b: Any) -> Any:
        if op == "+=" and isinstance(a, list) and not isinstance(b, SEQ):
            b = self.sized(b, SLOT, "拼接结果")  # list += iterator: extended in C
            self.check_size((len(a) + len(b)) * SLOT, "拼接结果")
        elif op == "|=" and isinstance(a, dict) and not isinstance(b, dict):
            b = self.sized(b, DICT_ITEM, "字典")  # dict |= pairs
        else:
            self.check_binop(op[:-1], a, b)
        return _INPLACE[op](a, b)

    def format_value(self, value: Any, conversion: int, spec: str) -> Any:
        if conversion == -1 and not spec and type(value) in SHORT_TEXT:  # f"{name}", f"{count}"
            return format(value)
        if conversion != -1:
            self.check_size(self.text_of(value), "格式化结果")
            value = _CONVERSIONS[conversion](value)
        if type(value) is not str:
            self.check_decimal(value)
            self.check_text(value, "格式化结果")
        self.check_size(spec_size(spec), "格式化宽度")
        return format(value, spec)

    def getslice(self, obj: Any, key: Any) -> Any:
        if isinstance(key, slice) and isinstance(obj, SEQ):
            try:
                count = len(range(*key.indices(len(obj))))
            except (TypeError, ValueError):
                count = 0  # obj[key] says what is wrong
            self.check_size(count * unit(obj), "切片结果")
        return obj[key]

    def starred(self, source: Any, in_set: bool = False) -> Any:
        """``*s`` in ``[*s]``, ``{*s}``, ``f(*s)``…, and the right side of ``s[i:j] = …``."""
        return self.sized(source, SET_ITEM if in_set else SLOT, "展开结果")

    def starred_map(self, mapping: Any) -> Any:
        """``**d`` in ``{**d}`` and ``f(**d)``."""
        count = length(mapping)
        if count is not None:
            self.check_size(count * DICT_ITEM, "展开结果")
        return mapping

    def unpack_sequence(self, source: Any, spec: dict[str, Any], getiter: Callable[[Any], Any]) -> Any:
        """``a, *b = s``: RestrictedPython's guarded_unpack_sequence with the list sized first."""
        if type(source) is tuple and len(source) <= 64:  # for k, v in d.items()
            items = list(source)
        else:
            items = list(getiter(self.sized(source, SLOT, "解包的序列")))
        if len(items) < spec["min_len"]:
            return items
        for index, child in spec["childs"]:
            items[index] = self.unpack_sequence(items[index], child, getiter)
        return items

    def iter_unpack_sequence(self, source: Any, spec: dict[str, Any], getiter: Callable[[Any], Any]) -> Iterator[Any]:
        for item in getiter(source):
            yield self.unpack_sequence(item, spec, getiter)

    # --- attributes --------------------------------------------------------------------

    def getattr(self, obj: Any, name: str, *default: Any) -> Any:
        if type(name) is not str:
            raise TypeError("属性名必须是字符串")
        _forbid_attribute(name)
        if type(obj).__base__ is _Checked:  # str.join, dict.fromkeys: the builtin's own
            obj = obj.wrapped
        if name in _GUARDED_ATTRS:
            guarded = self._guarded_method(obj, name)
            if guarded is not None:
                return guarded
        return getattr(obj, name, *default)

    def _guarded_method(self, obj: Any, name: str) -> Callable[..., Any] | None:
        owner = obj if isinstance(obj, type) else type(obj)
        if name in CLOCK_ATTRIBUTES:
            if issubclass(owner, date):  # also refused at compile time; this catches getattr(d, name)
                raise Abort("SCRIPT_FORBIDDEN", f"{CLOCK_REFUSAL}（{name}）{self.clock_hint}")
            return None
        if name in ("format", "format_map"):
            if not issubclass(owner, str):
                return None
            if name == "format_map":
                return (
                    (lambda text, mapping: self.formatter.vformat(text, (), mapping))
                    if obj is owner
                    else (lambda mapping: self.formatter.vformat(obj, (), mapping))
                )
            return self.formatter.format if obj is owner else (lambda *a, **k: self.formatter.format(obj, *a, **k))
        if not issubclass(owner, GUARDED_METHODS[name]):
            return None
        method = getattr(obj, name)
        if obj is not owner and name in BOUNDED and (len(obj) + 1) * BOUNDED[name] < SMALL:
            return method  # '8,40,70'.split(','): nothing worth checking
        if name == "fromkeys":  # a classmethod: the keys come first either way
            return lambda keys, *a: method(self.sized(keys, DICT_ITEM, "字典"), *a)
        if obj is owner:  # str.ljust(s, n): the instance is the first argument
            return lambda inst, *a, **k: method(inst, *checked_args(self, inst, name, a, k), **k)
        return lambda *a, **k: method(*checked_args(self, obj, name, a, k), **k)

    # --- builtins ----------------------------------------------------------------------

    def range(self, *args: Any) -> range:
        r = range(*args)
        try:
            count = len(r)
        except OverflowError:
            count = 1 << 63
        self.check_size(count * BYTES_PER_RANGE_ITEM, " range 范围")
        return r

    @staticmethod
    def sum(iterable: Iterable[Any], start: Any = 0) -> Any:
        # sum(lists, []) concatenates quadratically inside C, where no tick can stop it.
        if isinstance(start, SEQ):
            raise TypeError("sum() 只能对数字求和")
        return sum(iterable, start)

    def round(self, number: Any, *ndigits: Any) -> Any:
        if not ndigits or ndigits[0] is None:
            self.check_decimal(number)
        return round(number, *ndigits)

    def _builder(self, real: type, per_item: int, what: str) -> _Checked:
        def build(*args: Any, **kwargs: Any) -> Any:
            if args:
                args = (self.sized(args[0], per_item, what), *args[1:])
            return real(*args, **kwargs)

        return _checked_type(real, build)

    def _sorted(self, iterable: Iterable[Any], /, **kwargs: Any) -> list[Any]:
        items = self.sized(iterable, SLOT, "排序结果")
        if items is iterable:
            return sorted(items, **kwargs)
        items.sort(**kwargs)  # collected from an iterator: already a new list
        return items

    def _str(self, *args: Any, **kwargs: Any) -> str:
        if len(args) == 1 and type(args[0]) in SHORT_TEXT and not kwargs:
            return str(args[0])
        value = args[0] if args else kwargs.get("object", "")
        if isinstance(value, bytes | bytearray) and (len(args) > 1 or kwargs.keys() - {"object"}):
            self.check_size(len(value) * 4, "文本结果")  # str(b, 'utf-8')
        else:
            self.check_text(value, "文本结果")
        return str(*args, **kwargs)

    def _int(self, *args: Any, **kwargs: Any) -> int:
        if args:
            self.check_decimal(args[0])
        return int(*args, **kwargs)

    def print_collector(self, _getattr_: Any = None) -> PrintCollector:
        printer = _Printer(_getattr_)
        printer.guards = self
        return printer

    def read_getattr(self, obj: Any, name: str, *default: Any) -> Any:
        """``getattr`` in an expression: every write to case data would go through a mutating method, and every
        method through here (there are no statements, no ``setattr``, no underscore names), so this door is
        the read-only view. Refused whatever the object, as at deploy (engine/sandbox/readonly.py)."""
        if name in MUTATING_METHODS:
            raise Abort("EXPRESSION_WRITES", f"不能修改流程数据（调用了 {name}）；修改数据请用脚本任务")
        return self.getattr(obj, name, *default)

    def namespace(self, *, read_only: bool = False) -> dict[str, Any]:
        """Globals every run gets, overriding task data of the same name; `read_only` for expressions."""
        getattr_ = self.read_getattr if read_only else self.getattr
        builtins: dict[str, Any] = {
            **{name: getattr(builtins_module, name) for name in _SAFE_BUILTINS.split()},
            "list": self._builder(list, SLOT, "列表"),
            "tuple": self._builder(tuple, SLOT, "元组"),
            "set": self._builder(set, SET_ITEM, "集合"),
            "frozenset": self._builder(frozenset, SET_ITEM, "集合"),
            "dict": self._builder(dict, DICT_ITEM, "字典"),
            "str": _checked_type(str, self._str),
            "int": _checked_type(int, self._int),
            "sorted": self._sorted,
            "round": self.round,
            "Decimal": Decimal,
            "date": date,
            "datetime": datetime,
            "timedelta": timedelta,
            "range": self.range,
            "sum": self.sum,
            "getattr": getattr_,
            **CATCHABLE_EXCEPTIONS,
        }
        return {
            "__builtins__": builtins,
            "_getattr_": getattr_,
            "_getitem_": operator.getitem,
            "_getslice_": self.getslice,
            "_getiter_": iter,
            "_write_": full_write_guard,
            "_apply_": _apply,
            "_binop_": self.binop,
            "_inplacevar_": self.inplacevar,
            "_format_": self.format_value,
            "_starred_": self.starred,
            "_starred_map_": self.starred_map,
            "_unpack_sequence_": self.unpack_sequence,
            "_iter_unpack_sequence_": self.iter_unpack_sequence,
            "_print_": self.print_collector,
            # Also as globals, so task data cannot shadow what an except clause names.
            **CATCHABLE_EXCEPTIONS,
        }


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)
