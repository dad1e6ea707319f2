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
``splitlines``, ``join``).
"""

from __future__ import annotations

import builtins as builtins_module
import operator
import re
import string
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import chain, islice
from typing import Any, cast

from RestrictedPython.Guards import full_write_guard
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from engine.sandbox.policy import CATCHABLE_EXCEPTIONS, CLOCK_ATTRIBUTES, CLOCK_REFUSAL
from engine.sandbox.watch import Abort, Watch, current

__all__ = ["Abort", "Guards", "text_size"]

# Big-int arithmetic is superlinear in C and cannot be interrupted; ~30,000
# decimal digits is far beyond any amount and keeps every operation in the
# millisecond range.
MAX_INT_BITS = 100_000
# A Decimal this many powers of ten from 1 becomes such an int (int(), round(),
# '%d', as_integer_ratio()) or such a string (f"{d:f}").
MAX_DECIMAL_DIGITS = MAX_INT_BITS * 3 // 10

# list(range(n)) costs about 40 bytes per element (slot plus int object).
BYTES_PER_RANGE_ITEM = 40
# Bytes per element of what the checked builders make: a list or tuple slot,
# a set or dict entry with its share of the hash table (measured: up to ~56
# and ~84 just after a resize), one piece of a split text (slot plus str header).
SLOT = 8
SET_ITEM = 64
DICT_ITEM = 80
PIECE = 64
# Bytes of new objects per element that iterating a source creates.
_NEW_INT = 32  # range
_NEW_TUPLE = 64  # dict.items()
_NEW_CHAR = 80  # a non-ASCII character of a str
# Below this, a checked size is not charged to the watch: nothing adds up that fast without ticking.
SMALL = 4096
# Elements taken at a time from an iterator of unknown length.
CHUNK = 1 << 16

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
_TEXT = (str, bytes, bytearray)
_SEQ = (str, bytes, bytearray, list, tuple)
_DICT_ITEMS: type = type({}.items())
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# Method name → the types on which it is guarded.
_GUARDED_METHODS: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "translate"), _TEXT),
    **dict.fromkeys(("split", "rsplit", "splitlines"), _TEXT),
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
_BOUNDED = {"split": SLOT + PIECE, "rsplit": SLOT + PIECE, "splitlines": SLOT + PIECE, "encode": 4, "decode": 4}
_BOUNDED.update(dict.fromkeys(("copy", "intersection", "difference"), DICT_ITEM))
_IN_PLACE = frozenset({"extend", "update", "intersection_update", "difference_update", "symmetric_difference_update"})
_GUARDED_ATTRS = frozenset(_GUARDED_METHODS) | CLOCK_ATTRIBUTES | {"format", "format_map"}
_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}  # f"{x!r:>9}"
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")
_FIELD_ATTR = re.compile(r"\.([^.\[]*)")
# What str() and format() turn into short text without walking anything.
_SHORT_TEXT = frozenset({str, int, bool, float, type(None), date, datetime, timedelta})
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict, _DICT_ITEMS, type({}.keys()), type({}.values())})


def _forbid_attribute(name: str) -> None:
    if name.startswith("_") or name in INSPECT_ATTRIBUTES:
        raise Abort("SCRIPT_FORBIDDEN", f"不允许访问属性 {name}")


def _unit(seq: Any) -> int:
    """Bytes per element: list slots are pointers, non-ASCII text may need 4 bytes a character."""
    if isinstance(seq, str):
        return 1 if seq.isascii() else 4
    return 1 if isinstance(seq, bytes | bytearray) else 8


def _number(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _spec_size(spec: str) -> int:
    # Any number in a format spec is a width or precision: each is paid in output characters.
    return sum(int(d) if len(d) < 19 else 1 << 63 for d in _DIGITS.findall(spec))


def _item_cost(source: Any) -> int:
    """Bytes of new objects per element that iterating `source` creates (0: the elements already exist)."""
    kind = type(source)
    if kind is str:
        return 0 if source.isascii() else _NEW_CHAR  # one-character ASCII strings are shared
    if kind is range:
        return _NEW_INT
    return _NEW_TUPLE if kind is _DICT_ITEMS else 0


def _count(text: Any, part: Any) -> int:
    try:
        return int(text.count(part))
    except TypeError:
        return 0  # 'a'.replace(b'a', …): the method itself says what is wrong


def _length(source: Any) -> int | None:
    if not hasattr(type(source), "__len__"):  # cheaper than len() raising for every generator
        return None
    try:
        return len(source)
    except OverflowError:
        return 1 << 63


def _scalar_text_size(value: Any) -> int:
    """Length of str()/repr() of a value that holds no other values; -1 for containers."""
    kind = type(value)
    if kind is str:
        return len(value) * (1 if value.isascii() and value.isprintable() else 4) + 2
    if kind is int or kind is bool:
        return value.bit_length() // 3 + 2
    if kind is float or value is None:
        return 24
    if kind in _CONTAINERS or isinstance(value, BaseException):
        return -1
    if isinstance(value, bytes | bytearray):
        return len(value) * 4 + 14
    return sys.getsizeof(value) * 3  # Decimal: ~2.4 digits per byte; date, range, functions: short


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, BaseException):
        return iter(value.args)
    if isinstance(value, dict):
        return chain.from_iterable(value.items())
    return iter(value)


def text_size(value: Any, limit: int) -> int:
    """About how many bytes str() or repr() of `value` produces; stops counting once past `limit`.

    repr walks a structure in C without a tick, and a shared one prints every
    path: ``[[[0] * 1000] * 1000] * 1000`` is a few KB and prints 3 GB. So a
    shared part is measured once (by id) and counted every time it appears; a
    cycle counts as its ``[...]``.
    """
    total = _scalar_text_size(value)
    if total >= 0:
        return total
    watch = current()
    memo: dict[int, int] = {}
    total = 2 + 4 * (_length(value) or 0)
    active = {id(value)}
    frames: list[list[Any]] = [[id(value), _children(value), total]]  # [id, children left, size so far]
    nodes = 0
    while frames:
        frame = frames[-1]
        child = next(frame[1], _END)
        if child is _END:
            frames.pop()
            active.discard(frame[0])
            memo[frame[0]] = frame[2]
            if frames:
                frames[-1][2] += frame[2]  # already in `total`, child by child
            continue
        nodes += 1
        if watch is not None and not nodes & 4095:
            watch.check_cpu()
        size = _scalar_text_size(child)
        if size < 0:
            key = id(child)
            if key in memo:
                size = memo[key]
            elif key in active:
                size = 5  # [...]
            else:
                size = 2 + 4 * (_length(child) or 0)
                active.add(key)
                frames.append([key, _children(child), size])
                total += size
                if total > limit:
                    return total
                continue
        total += size
        if total > limit:
            return total
        frame[2] += size
    return total


_END = object()


class _Formatter(string.Formatter):
    def __init__(self, guards: Guards) -> None:
        self.guards = guards

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        for attr in _FIELD_ATTR.findall(field_name):
            _forbid_attribute(attr)
        return super().get_field(field_name, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion:
            self.guards.check_size(text_size(value, self.guards.memory_bytes), "格式化结果")
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


class Guards:
    """The guard functions and builtins for one memory budget."""

    def __init__(self, memory_bytes: int, *, clock_hint: str = "") -> None:
        self.memory_bytes = memory_bytes
        self.clock_hint = clock_hint
        self.formatter = _Formatter(self)

    # --- sizes -----------------------------------------------------------------------

    def check_size(self, size: int, what: str) -> None:
        """Refuse an allocation of `size` bytes over the budget; charge a big one to the run's watch."""
        if size > self.memory_bytes:
            raise Abort("SCRIPT_MEMORY", f"的{what}过大：约需 {size} 字节，超出内存预算 {self.memory_bytes} 字节")
        if size >= SMALL:
            watch = current()
            if watch is not None:
                watch.charge(size)

    def check_bits(self, bits: int) -> None:
        if bits > MAX_INT_BITS:
            raise Abort("SCRIPT_MEMORY", f"的整数结果过大：约 {bits} 位，上限 {MAX_INT_BITS} 位")

    def check_decimal(self, value: Any) -> None:
        """A Decimal about to become an int, or text without an exponent: Decimal('1e9999999') has 10⁷ digits."""
        if isinstance(value, Decimal) and value.is_finite():
            digits = abs(value.adjusted())
            if digits > MAX_DECIMAL_DIGITS:
                raise Abort("SCRIPT_MEMORY", f"的数值过大：约 {digits} 位数字，上限 {MAX_DECIMAL_DIGITS} 位")

    def check_text(self, value: Any, what: str) -> None:
        """Before str()/repr() of `value` in C."""
        if type(value) not in _SHORT_TEXT:
            self.check_size(text_size(value, self.memory_bytes), what)

    def sized(self, source: Any, per_item: int, what: str) -> Any:
        """`source`, once a container of its length fits the budget; an iterator comes back as a list."""
        count = _length(source)
        if count is None:
            source = self.collect(source, what)
            count, cost = len(source), 0
        else:
            cost = _item_cost(source)
        self.check_size(count * (per_item + cost), what)
        return source

    def collect(self, source: Iterable[Any], what: str, watch: Watch | None = None) -> list[Any]:
        """The elements of an iterator of unknown length, taken in chunks under the budget."""
        iterator = iter(source)
        items = list(islice(iterator, CHUNK))
        if len(items) < CHUNK:
            return items
        watch = watch or current()
        while len(items) % CHUNK == 0:
            self.check_size(len(items) * SLOT, what)
            if watch is not None:  # the elements themselves: only the resident memory knows their size
                watch.check_memory()
                watch.check_cpu()
            chunk = list(islice(iterator, CHUNK))
            if not chunk:
                break
            items += chunk
        return items

    # --- operators ---------------------------------------------------------------------

    def check_binop(self, op: str, a: Any, b: Any) -> None:
        if op == "*":
            if isinstance(a, int) and isinstance(b, int):
                self.check_bits(a.bit_length() + b.bit_length())
            elif isinstance(a, int) or isinstance(b, int):
                seq, times = (b, a) if isinstance(a, int) else (a, b)
                if isinstance(seq, _SEQ):
                    self.check_size(len(seq) * max(times, 0) * _unit(seq), "重复结果")
        elif op == "**":
            if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
                self.check_bits(a.bit_length() * b)
        elif op == "<<":
            if isinstance(a, int) and isinstance(b, int) and a != 0 and b > 0:
                self.check_bits(a.bit_length() + b)
        elif op == "+":
            if isinstance(a, _SEQ) and isinstance(b, _SEQ):
                self.check_size((len(a) + len(b)) * max(_unit(a), _unit(b)), "拼接结果")
        elif op == "%" and isinstance(a, str | bytes):
            self.check_printf(a, b)

    def check_printf(self, fmt: str | bytes, args: Any) -> None:
        text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
        size, star = len(text), False
        for width, precision in _PRINTF_SPEC.findall(text):
            for part in (width, precision):
                star = star or part == "*"
                size += _spec_size(part)
        values = args if isinstance(args, tuple) else (args,)
        if star:  # '%*d' % (n, x): the width comes from the arguments
            size += sum(_number(a) for a in values)
        for value in values:  # '%s' % (rows,) prints all of rows; '%d' % Decimal makes an int
            self.check_decimal(value)
            size += text_size(value, self.memory_bytes)
        self.check_size(size, "格式化结果")

    def binop(self, op: str, a: Any, b: Any) -> Any:
        self.check_binop(op, a, b)
        return _BINOPS[op](a, b)

    def inplacevar(self, op: str, a: Any, b: Any) -> Any:
        if op == "+=" and isinstance(a, list) and not isinstance(b, _SEQ):
            b = self.sized(b, SLOT, "拼接结果")  # list += iterator: extended in C
            self.check_size((len(a) + len(b)) * SLOT, "拼接结果")
        elif op == "|=" and isinstance(a, dict) and not isinstance(b, dict):
            b = self.sized(b, DICT_ITEM, "字典")  # dict |= pairs
        else:
            self.check_binop(op[:-1], a, b)
        return _INPLACE[op](a, b)

    def format_value(self, value: Any, conversion: int, spec: str) -> Any:
        if conversion == -1 and not spec and type(value) in _SHORT_TEXT:  # f"{name}", f"{count}"
            return format(value)
        if conversion != -1:
            self.check_size(text_size(value, self.memory_bytes), "格式化结果")
            value = _CONVERSIONS[conversion](value)
        if type(value) is not str:
            self.check_decimal(value)
            self.check_text(value, "格式化结果")
        self.check_size(_spec_size(spec), "格式化宽度")
        return format(value, spec)

    def getslice(self, obj: Any, key: Any) -> Any:
        if isinstance(key, slice) and isinstance(obj, _SEQ):
            try:
                count = len(range(*key.indices(len(obj))))
            except (TypeError, ValueError):
                count = 0  # obj[key] says what is wrong
            self.check_size(count * _unit(obj), "切片结果")
        return obj[key]

    def starred(self, source: Any, in_set: bool = False) -> Any:
        """``*s`` in ``[*s]``, ``{*s}``, ``f(*s)``…, and the right side of ``s[i:j] = …``."""
        return self.sized(source, SET_ITEM if in_set else SLOT, "展开结果")

    def starred_map(self, mapping: Any) -> Any:
        """``**d`` in ``{**d}`` and ``f(**d)``."""
        count = _length(mapping)
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
        if not issubclass(owner, _GUARDED_METHODS[name]):
            return None
        method = getattr(obj, name)
        if obj is not owner and name in _BOUNDED and (len(obj) + 1) * _BOUNDED[name] < SMALL:
            return method  # '8,40,70'.split(','): nothing worth checking
        if name == "fromkeys":  # a classmethod: the keys come first either way
            return lambda keys, *a: method(self.sized(keys, DICT_ITEM, "字典"), *a)
        if obj is owner:  # str.ljust(s, n): the instance is the first argument
            return lambda inst, *a, **k: method(inst, *self._checked(inst, name, a, k), **k)
        return lambda *a, **k: method(*self._checked(obj, name, a, k), **k)

    def _checked(self, inst: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """Check the result size of a method before calling it; may return replaced args."""
        size, what = 0, "文本结果"
        if isinstance(inst, list | dict | set | frozenset):
            per_item = SLOT if isinstance(inst, list) else DICT_ITEM if isinstance(inst, dict) else SET_ITEM
            args = tuple(self.sized(arg, per_item, "集合结果") for arg in args)
            added = sum(_length(arg) or 0 for arg in args)
            # extend, update…: grows by what is added; union, copy…: a new container
            size = (added if name in _IN_PLACE else len(inst) + added) * per_item
            what = "集合结果"
        elif name == "as_integer_ratio":
            self.check_decimal(inst)
        elif name == "to_bytes":
            size = _number(kwargs.get("length", args[0] if args else 1))
        elif not isinstance(inst, _TEXT):
            return args  # str.split(1): the method says what is wrong
        elif name == "join" and args:
            items = args[0]
            if isinstance(items, _TEXT):
                size = len(items) * (1 + len(inst))
            else:
                items = self.sized(items, SLOT, "文本结果")
                if not isinstance(items, list | tuple):
                    items = list(items)
                try:
                    size = sum(map(len, items)) + len(inst) * max(len(items) - 1, 0)
                except TypeError:
                    size = 0  # not all text: join itself says so
            size *= _unit(inst)
            args = (items, *args[1:])
        elif name in ("ljust", "rjust", "center", "zfill") and args:
            size = _number(args[0]) * _unit(inst)
        elif name == "expandtabs":
            size = len(inst) * _number(args[0] if args else kwargs.get("tabsize", 8)) * _unit(inst)
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], _TEXT) and isinstance(args[1], _TEXT):
            size = (len(inst) + _count(inst, args[0]) * max(len(args[1]) - len(args[0]), 0)) * _unit(inst)
        elif name == "translate" and args and isinstance(args[0], dict):
            longest = max((len(v) for v in args[0].values() if isinstance(v, _TEXT)), default=1)
            size = len(inst) * longest * _unit(inst)
        elif name in ("split", "rsplit", "splitlines"):
            size = self._pieces(inst, name, args, kwargs) * PIECE + len(inst) * _unit(inst)
        elif name in ("encode", "decode"):
            size = len(inst) * 4
        self.check_size(size, what)
        return args

    @staticmethod
    def _pieces(inst: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        """At most how many pieces a split makes."""
        if name == "splitlines":
            breaks = _LINE_BREAKS if isinstance(inst, str) else (b"\n", b"\r")
            return sum(inst.count(b) for b in breaks) + 1
        sep = args[0] if args else kwargs.get("sep")
        limit = args[1] if len(args) > 1 else kwargs.get("maxsplit", -1)
        pieces = len(inst) // 2 + 1 if sep is None else _count(inst, sep) + 1
        if isinstance(limit, int) and limit >= 0:
            pieces = min(pieces, limit + 1)
        return pieces

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
        if isinstance(start, _SEQ):
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
        if len(args) == 1 and type(args[0]) in _SHORT_TEXT and not kwargs:
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

    def namespace(self) -> dict[str, Any]:
        """Globals every run gets, overriding task data of the same name."""
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
            "getattr": self.getattr,
            **CATCHABLE_EXCEPTIONS,
        }
        return {
            "__builtins__": builtins,
            "_getattr_": self.getattr,
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
