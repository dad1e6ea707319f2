"""Runtime half of the sandbox: the guard functions and builtins user code sees.

The policy rewrites ``a.b``, ``a[b]``, ``a * b``, ``f"{x:>{w}}"`` and friends
into calls of the functions here. Their job is to refuse, before computing it,
any single operation whose result would blow the memory budget; the tick in
:mod:`engine.sandbox_watch` is only the backstop for gradual growth.
"""

from __future__ import annotations

import builtins as builtins_module
import operator
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from engine.sandbox_policy import CATCHABLE_EXCEPTIONS

# Big-int arithmetic is superlinear in C and cannot be interrupted; ~30,000
# decimal digits is far beyond any amount and keeps every operation in the
# millisecond range.
MAX_INT_BITS = 100_000

# list(range(n)) costs about 40 bytes per element (slot plus int object).
BYTES_PER_RANGE_ITEM = 40

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
    abs all any bool chr dict divmod enumerate filter float frozenset int isinstance len list
    map max min ord reversed round set sorted str tuple zip
"""
_TEXT = (str, bytes, bytearray)
_SEQ = (str, bytes, bytearray, list, tuple)
_TEXT_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "translate"})
# The engine never reads the wall clock itself (engine/clock.py); scripts get
# time from process data or a helper, so runs replay the same way.
_CLOCK_METHODS = frozenset({"now", "today", "utcnow", "fromtimestamp", "utcfromtimestamp"})
_GUARDED_ATTRS = _TEXT_METHODS | _CLOCK_METHODS | {"format", "format_map", "to_bytes"}
_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}  # f"{x!r:>9}"
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")
_FIELD_ATTR = re.compile(r"\.([^.\[]*)")


class Abort(BaseException):
    """Ends user code. A BaseException, so no ``except`` a script may write catches it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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


class _Formatter(string.Formatter):
    def __init__(self, guards: Guards) -> None:
        self.guards = guards

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        for attr in _FIELD_ATTR.findall(field_name):
            _forbid_attribute(attr)
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        self.guards.check_size(_spec_size(format_spec), "格式化宽度")
        return format(value, format_spec)


class Guards:
    """The guard functions and builtins for one memory budget."""

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        self.formatter = _Formatter(self)

    def check_size(self, size: int, what: str) -> None:
        if size > self.memory_bytes:
            raise Abort("SCRIPT_MEMORY", f"的{what}过大：约需 {size} 字节，超出内存预算 {self.memory_bytes} 字节")

    def check_bits(self, bits: int) -> None:
        if bits > MAX_INT_BITS:
            raise Abort("SCRIPT_MEMORY", f"的整数结果过大：约 {bits} 位，上限 {MAX_INT_BITS} 位")

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
        if star:  # '%*d' % (n, x): the width comes from the arguments
            size += sum(_number(a) for a in (args if isinstance(args, tuple) else (args,)))
        self.check_size(size, "格式化结果")

    def binop(self, op: str, a: Any, b: Any) -> Any:
        self.check_binop(op, a, b)
        return _BINOPS[op](a, b)

    def inplacevar(self, op: str, a: Any, b: Any) -> Any:
        self.check_binop(op[:-1], a, b)
        return _INPLACE[op](a, b)

    def format_value(self, value: Any, conversion: int, spec: str) -> str:
        if conversion != -1:
            value = _CONVERSIONS[conversion](value)
        self.check_size(_spec_size(spec), "格式化宽度")
        return format(value, spec)

    def getattr(self, obj: Any, name: str, *default: Any) -> Any:
        if type(name) is not str:
            raise TypeError("属性名必须是字符串")
        _forbid_attribute(name)
        if name in _GUARDED_ATTRS:
            guarded = self._guarded_method(obj, name)
            if guarded is not None:
                return guarded
        return getattr(obj, name, *default)

    def _guarded_method(self, obj: Any, name: str) -> Callable[..., Any] | None:
        owner = obj if isinstance(obj, type) else type(obj)
        if name in _CLOCK_METHODS and issubclass(owner, date):
            raise Abort("SCRIPT_FORBIDDEN", f"不允许读取系统时钟（{name}），请使用流程数据或辅助函数提供的时间")
        if name in ("format", "format_map") and issubclass(owner, str):
            if name == "format_map":
                return (
                    (lambda text, mapping: self.formatter.vformat(text, (), mapping))
                    if obj is owner
                    else (lambda mapping: self.formatter.vformat(obj, (), mapping))
                )
            return self.formatter.format if obj is owner else (lambda *a, **k: self.formatter.format(obj, *a, **k))
        if not (name in _TEXT_METHODS and issubclass(owner, _TEXT) or name == "to_bytes" and issubclass(owner, int)):
            return None
        method = getattr(obj, name)
        if obj is owner:  # str.ljust(s, n): the instance is the first argument
            return lambda inst, *a, **k: method(inst, *self._checked(inst, name, a, k), **k)
        return lambda *a, **k: method(*self._checked(obj, name, a, k), **k)

    def _checked(self, inst: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """Check the result size of a text method before calling it; may return replaced args."""
        size = 0
        if name == "join" and args:
            items = list(args[0])
            size = sum(len(i) for i in items if isinstance(i, _TEXT)) + len(inst) * max(len(items) - 1, 0)
            args = (items, *args[1:])
        elif name in ("ljust", "rjust", "center", "zfill") and args:
            size = _number(args[0])
        elif name == "expandtabs":
            size = len(inst) * _number(args[0] if args else kwargs.get("tabsize", 8))
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], _TEXT) and isinstance(args[1], _TEXT):
            size = len(inst) + inst.count(args[0]) * max(len(args[1]) - len(args[0]), 0)
        elif name == "translate" and args and isinstance(args[0], dict):
            longest = max((len(v) for v in args[0].values() if isinstance(v, _TEXT)), default=1)
            size = len(inst) * longest
        elif name == "to_bytes":
            size = _number(kwargs.get("length", args[0] if args else 1))
        self.check_size(size * _unit(inst) if isinstance(inst, _TEXT) else size, "文本结果")
        return args

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

    def namespace(self) -> dict[str, Any]:
        """Globals every run gets, overriding task data of the same name."""
        builtins: dict[str, Any] = {
            **{name: getattr(builtins_module, name) for name in _SAFE_BUILTINS.split()},
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
            "_getiter_": iter,
            "_write_": full_write_guard,
            "_apply_": _apply,
            "_binop_": self.binop,
            "_inplacevar_": self.inplacevar,
            "_format_": self.format_value,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_print_": PrintCollector,
            # Also as globals, so task data cannot shadow what an except clause names.
            **CATCHABLE_EXCEPTIONS,
        }


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)
