"""How big things get: estimates of what an operation is about to build, and
the budget that refuses it before it is built.

:class:`Budget` refuses any single allocation over the run's memory budget and
charges the big ones to the run's watch (:mod:`engine.sandbox.watch`);
:func:`text_size` estimates str()/repr() of a structure without building it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import chain, islice
from typing import Any
from uuid import UUID

from engine.sandbox.watch import Abort, Watch, current

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

TEXT = (str, bytes, bytearray)
SEQ = (str, bytes, bytearray, list, tuple)
_DICT_ITEMS: type = type({}.items())
# What str() and format() turn into short text without walking anything.
SHORT_TEXT = frozenset({str, int, bool, float, type(None), date, datetime, timedelta})
# Leaves that may be turned into text: their repr carries no address and reveals nothing internal.
_TEXT_DATA = (str, int, float, bytes, bytearray, Decimal, date, timedelta, UUID, range)
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict, _DICT_ITEMS, type({}.keys()), type({}.values())})
# printf-style conversions, with their width and precision.
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
# A number in a format spec (a width or a precision).
_DIGITS = re.compile(r"\d+")


def unit(seq: Any) -> int:
    """Bytes per element: list slots are pointers, non-ASCII text may need 4 bytes a character."""
    if isinstance(seq, str):
        return 1 if seq.isascii() else 4
    return 1 if isinstance(seq, bytes | bytearray) else 8


def number(value: Any) -> int:
    return value if isinstance(value, int) else 0


def spec_size(spec: str) -> int:
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


def count(text: Any, part: Any) -> int:
    try:
        return int(text.count(part))
    except TypeError:
        return 0  # 'a'.replace(b'a', …): the method itself says what is wrong


def length(source: Any) -> int | None:
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


def _refuse_opaque(value: Any) -> None:
    """Only data becomes text in a script: the repr of a function, type or internal object (with its
    memory address, ``<bound method … at 0x7f…>``) must never reach case data."""
    if value is None or isinstance(value, _TEXT_DATA):
        return
    kind = "类型" if isinstance(value, type) else "函数" if callable(value) else "程序内部对象"
    raise Abort(
        "SCRIPT_FORBIDDEN",
        f"不能把{kind}转成文本：只有数据（文本、数字、日期、列表、字典等）可以转成文本",
    )


def text_size(value: Any, limit: int, *, plain: bool = False) -> int:
    """About how many bytes str() or repr() of `value` produces; stops counting once past `limit`.

    `plain`: the text is for the script (str(), format, %, print), so anything
    in `value` that is not data is refused (:func:`_refuse_opaque`).

    repr walks a structure in C without a tick, and a shared one prints every
    path: ``[[[0] * 1000] * 1000] * 1000`` is a few KB and prints 3 GB. So a
    shared part is measured once (by id) and counted every time it appears; a
    cycle counts as its ``[...]``.
    """
    total = _scalar_text_size(value)
    if total >= 0:
        if plain:
            _refuse_opaque(value)
        return total
    watch = current()
    memo: dict[int, int] = {}
    total = 2 + 4 * (length(value) or 0)
    active = {id(value)}
    frames: list[list[Any]] = [[id(value), _children(value), total]]  # [id, _children left, size so far]
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
        if plain and size >= 0:
            _refuse_opaque(child)
        if size < 0:
            key = id(child)
            if key in memo:
                size = memo[key]
            elif key in active:
                size = 5  # [...]
            else:
                size = 2 + 4 * (length(child) or 0)
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


class Budget:
    """The size checks for one memory budget."""

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes

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
        if type(value) not in SHORT_TEXT:
            self.check_size(self.text_of(value), what)

    def text_of(self, value: Any) -> int:
        """text_size of what a script turns into text: data only (see :func:`text_size`)."""
        return text_size(value, self.memory_bytes, plain=True)

    def sized(self, source: Any, per_item: int, what: str) -> Any:
        """`source`, once a container of its length fits the budget; an iterator comes back as a list."""
        count = length(source)
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
                if isinstance(seq, SEQ):
                    self.check_size(len(seq) * max(times, 0) * unit(seq), "重复结果")
        elif op == "**":
            if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
                self.check_bits(a.bit_length() * b)
        elif op == "<<":
            if isinstance(a, int) and isinstance(b, int) and a != 0 and b > 0:
                self.check_bits(a.bit_length() + b)
        elif op == "+":
            if isinstance(a, SEQ) and isinstance(b, SEQ):
                self.check_size((len(a) + len(b)) * max(unit(a), unit(b)), "拼接结果")
        elif op == "%" and isinstance(a, str | bytes):
            self.check_printf(a, b)

    def check_printf(self, fmt: str | bytes, args: Any) -> None:
        text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
        size, star = len(text), False
        for width, precision in _PRINTF_SPEC.findall(text):
            for part in (width, precision):
                star = star or part == "*"
                size += spec_size(part)
        values = args if isinstance(args, tuple) else (args,)
        if star:  # '%*d' % (n, x): the width comes from the arguments
            size += sum(number(a) for a in values)
        for value in values:  # '%s' % (rows,) prints all of rows; '%d' % Decimal makes an int
            self.check_decimal(value)
            size += self.text_of(value)
        self.check_size(size, "格式化结果")
