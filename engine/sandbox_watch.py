"""CPU and memory watch over user code.

The policy puts a ``_tick_()`` call at the top of every loop body, function
body, lambda and comprehension, so anything that can repeat calls it; the tick
compares the thread's CPU time with the budget and, now and then, the
process's resident memory with where it started.

Not ``sys.settrace``: on Python 3.11 ``while True: pass`` compiles to a jump to
itself and produces no line events at all, and a RecursionError raised inside
a trace function makes Python switch tracing off for the rest of the run
(both tried). A tick is an ordinary call, so neither can happen to it, and it
costs less than tracing every line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from types import CodeType
from typing import Any

from engine.sandbox_guards import Abort

CHECK_EVERY = 64  # ticks between two reads of the CPU clock
RSS_INTERVAL = 0.005  # CPU seconds between two reads of /proc/self/statm

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0  # not Linux: the per-operation guards still hold


def make_tick(cpu_seconds: float, memory_bytes: int) -> Callable[[], bool]:
    deadline = time.thread_time() + cpu_seconds
    ticks = 0
    next_rss = 0.0
    rss_base = -1

    def tick() -> bool:
        nonlocal ticks, next_rss, rss_base
        ticks += 1
        if ticks % CHECK_EVERY:
            return True
        now = time.thread_time()
        if now > deadline:
            raise Abort("SCRIPT_TIMEOUT", f"运行超时：CPU 时间超过 {cpu_seconds:g} 秒")
        if now >= next_rss:
            next_rss = now + RSS_INTERVAL
            rss = _rss()
            if rss_base < 0:
                rss_base = rss  # taken lazily, so short expressions never pay for it
            elif rss - rss_base > memory_bytes:
                raise Abort("SCRIPT_MEMORY", f"占用内存超出预算 {memory_bytes} 字节")
        return True

    return tick


def run(code: CodeType, namespace: dict[str, Any], *, cpu_seconds: float, memory_bytes: int) -> Any:
    """Run compiled user code with a fresh budget; an iterator result is drained inside it."""
    namespace["_tick_"] = make_tick(cpu_seconds, memory_bytes)
    result = eval(code, namespace)
    # A lazy result would otherwise run user code later, after the budget is gone.
    return list(result) if isinstance(result, Iterator) else result
