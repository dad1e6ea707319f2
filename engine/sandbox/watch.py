"""CPU and memory watch over user code.

The policy puts a ``_tick_()`` call at the top of every loop body, function
body, lambda and comprehension, so anything that can repeat calls it; the tick
compares the thread's CPU time with the budget and, now and then, the
process's resident memory with where it started.

Single C calls that build something big (``list(s)``, ``s.split()``, ``[*s]``…)
never tick, so the guards in :mod:`engine.sandbox.guards` check their size
before making them and :meth:`Watch.charge` the bytes to the watch: every MiB
charged, and before any one allocation of a MiB or more, the watch reads the
resident memory too, so a run of such calls cannot add up past the budget
without a single tick in between.

Not ``sys.settrace``: on Python 3.11 ``while True: pass`` compiles to a jump to
itself and produces no line events at all, and a RecursionError raised inside
a trace function makes Python switch tracing off for the rest of the run
(both tried). A tick is an ordinary call, so neither can happen to it, and it
costs less than tracing every line.
"""

from __future__ import annotations

import os
import sys
import time
from types import CodeType
from typing import Any

CHECK_EVERY = 64  # ticks between two reads of the CPU clock
RSS_INTERVAL = 0.005  # CPU seconds between two reads of /proc/self/statm
CHARGE_EVERY = 1 << 20  # bytes charged by the guards between two reads of /proc/self/statm

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class Abort(BaseException):
    """Ends user code. A BaseException, so no ``except`` a script may write catches it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_statm: list[int] = []  # [pid, fd]: opened once per process, read with pread


def _statm_fd() -> int:
    # One descriptor kept open: a watchdog's interrupt (engine/sandbox/interrupt.py)
    # can land anywhere, and between open() and its close it would leak a file.
    pid = os.getpid()
    if not _statm or _statm[0] != pid:  # first use, or a forked child (/proc/self was the parent)
        _statm[:] = [pid, os.open("/proc/self/statm", os.O_RDONLY)]
    return _statm[1]


def _rss() -> int:
    try:
        return int(os.pread(_statm_fd(), 128, 0).split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError, AttributeError):
        return 0  # not Linux: the per-operation guards still hold


class Watch:
    """The budget of one run: CPU deadline, resident-memory growth, bytes charged by the guards."""

    __slots__ = ("cpu_seconds", "deadline", "memory_bytes", "next_rss", "pending", "rss_base", "ticks")

    def __init__(self, cpu_seconds: float, memory_bytes: int) -> None:
        self.cpu_seconds = cpu_seconds
        self.memory_bytes = memory_bytes
        self.deadline = time.thread_time() + cpu_seconds
        self.ticks = 0
        self.next_rss = 0.0
        self.rss_base = -1  # taken lazily, so short expressions never pay for it
        self.pending = 0

    def tick(self) -> bool:
        self.ticks += 1
        if self.ticks % CHECK_EVERY:
            return True
        now = time.thread_time()
        if now > self.deadline:
            self.timeout()
        if now >= self.next_rss:
            self.next_rss = now + RSS_INTERVAL
            self.check_memory()
        return True

    def timeout(self) -> None:
        raise Abort("SCRIPT_TIMEOUT", f"运行超时：CPU 时间超过 {self.cpu_seconds:g} 秒")

    def check_cpu(self) -> None:
        if time.thread_time() > self.deadline:
            self.timeout()

    def check_memory(self, extra: int = 0) -> None:
        """Refuse if memory has grown, or would grow by `extra` more bytes, past the budget."""
        rss = _rss()
        if self.rss_base < 0:
            self.rss_base = rss
        elif rss - self.rss_base + extra > self.memory_bytes:
            raise Abort("SCRIPT_MEMORY", f"占用内存超出预算 {self.memory_bytes} 字节")

    def charge(self, size: int) -> None:
        """One C call is about to allocate about `size` bytes (which alone fit the budget)."""
        self.pending += size
        if self.pending >= CHARGE_EVERY:
            self.pending = 0
            self.check_memory(size)


def current() -> Watch | None:
    """The watch of the run whose user code (somewhere up the stack) called the guard asking.

    Found through that code's globals, whose ``_tick_`` no script can touch,
    rather than set aside for each run: only big allocations ask, while every
    gateway condition would pay for the setting aside.
    """
    frame = sys._getframe(1)
    while frame is not None:
        tick = frame.f_globals.get("_tick_")
        watch = getattr(tick, "__self__", None)
        if isinstance(watch, Watch):
            return watch
        frame = frame.f_back  # type: ignore[assignment]
    return None


def run(code: CodeType, namespace: dict[str, Any], *, cpu_seconds: float, memory_bytes: int) -> tuple[Any, Watch]:
    """Run compiled user code with a fresh budget; the value, and the watch to finish within the same budget.

    A lazy value must be drained with that watch: it would otherwise run user
    code later, when nobody minds the budget any more.
    """
    watch = Watch(cpu_seconds, memory_bytes)
    namespace["_tick_"] = watch.tick
    return eval(code, namespace), watch
