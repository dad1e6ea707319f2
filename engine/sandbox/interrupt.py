"""Stopping a thread whose work has run past its budget, from another thread.

The sandbox's ticks stop user code and templates that loop
(:mod:`engine.sandbox.watch`), but not a loop in library code: SpiffWorkflow
walking a duration month by month, a step that waits in Python while it holds
the database's write lock. One watchdog thread checks every open
:class:`Guard` a few times a second; when one has expired it calls the
guard's ``on_expire`` (to cancel a database statement running in C) and
raises :class:`Interrupted` in the guarded thread, which Python delivers at
the thread's next bytecode.

Not while a tracer is installed (coverage, a debugger): traced, Python checks
for the interrupt between taking a lock and entering the ``with`` that would
release it, and the process deadlocks. Traced, only ``on_expire`` runs and
the guard still reports it fired, so the work is rolled back when it ends.

``Interrupted`` is a BaseException, so no ``except Exception`` in a library
swallows it; whoever opened the guard turns it into a located JiuzhuError.
:meth:`Watchdog.release` closes a guard and withdraws an exception not yet
delivered, under the guard's lock, so nothing lands after the guarded work
(a commit, say) has begun.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections.abc import Callable

POLL_SECONDS = 0.05


class Interrupted(BaseException):
    """Raised in a thread whose guard expired."""


def _set_async(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)


def _traced() -> bool:
    """A tracer is installed for this process's threads (the watchdog's own included)."""
    return sys.gettrace() is not None or threading.gettrace() is not None


class Guard:
    """One stretch of guarded work in one thread."""

    __slots__ = ("closed", "expired", "fired", "lock", "on_expire", "reason", "thread_id")

    def __init__(self, expired: Callable[[], bool], on_expire: Callable[[], None] | None) -> None:
        self.thread_id = threading.get_ident()
        self.expired = expired
        self.on_expire = on_expire
        self.fired = False
        self.reason = ""  # why it fired: "budget", or what interrupt_all was told
        self.closed = False
        self.lock = threading.Lock()


def wall_deadline(seconds: float) -> Callable[[], bool]:
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() > deadline


class Watchdog:
    """One daemon thread watching every open guard of the process."""

    def __init__(self, poll: float = POLL_SECONDS) -> None:
        self.poll = poll
        self._guards: set[Guard] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def guard(self, expired: Callable[[], bool], on_expire: Callable[[], None] | None = None) -> Guard:
        """Watch the calling thread until :meth:`release`."""
        guard = Guard(expired, on_expire)
        with self._wake:
            self._guards.add(guard)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="jiuzhu-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()
        return guard

    def release(self, guard: Guard) -> bool:
        """Stop watching; True if the guard fired (the work was interrupted or is over its budget)."""
        try:
            with guard.lock:
                guard.closed = True
                if guard.fired:
                    _set_async(guard.thread_id, None)  # not delivered yet: withdrawn
        finally:
            with self._wake:
                self._guards.discard(guard)
        return guard.fired

    def interrupt_all(self, reason: str = "shutdown") -> int:
        """Interrupt every guarded piece of work now (shutting down); how many there were."""
        with self._wake:
            guards = list(self._guards)
        for guard in guards:
            self._fire(guard, reason)
        return len(guards)

    def open_guards(self) -> int:
        with self._wake:
            return len(self._guards)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._guards:
                    self._wake.wait()
                guards = list(self._guards)
            for guard in guards:
                if not guard.fired and not guard.closed and guard.expired():
                    self._fire(guard, "budget")
            time.sleep(self.poll)

    @staticmethod
    def _fire(guard: Guard, reason: str) -> None:
        with guard.lock:
            if guard.closed or guard.fired:
                return
            guard.fired, guard.reason = True, reason
            if guard.on_expire is not None:
                try:
                    guard.on_expire()
                except Exception:  # cancelling a statement is a courtesy; the interrupt follows
                    pass
            if not _traced():
                _set_async(guard.thread_id, Interrupted)


WATCHDOG = Watchdog()
