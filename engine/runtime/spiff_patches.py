"""The few places where SpiffWorkflow 3.2.0 itself has to be corrected.

Applied once, on import of :mod:`engine.runtime.run`:

* G8 — the timer module reads the wall clock itself. We swap
  that module's ``datetime`` for a subclass whose ``now()`` reads the engine's
  injected clock from a context variable, so timers arm and fire on the same
  time the rest of the engine uses (tests jump time; servers use UTC).
* G8 again — a naive timer date is read in a fixed Beijing offset, not the
  server's zone at import time.
* Timers arm only on values held to the engine's time limits, and a cycle
  fires at most once per step (:mod:`engine.runtime.timer_guard`).
* G1 — ``Task._inherit_data`` shallow-merges the parent's data, so a script
  that mutates a nested dict rewrites the data of tasks that already
  completed. 3.1.2 deep-copied; we restore that, which also keeps ``回退``
  (reset to an earlier task) working on the data people actually saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module
from SpiffWorkflow.task import Task

from engine.datacopy import data_copy
from engine.runtime import timer_guard
from engine.runtime.timer_guard import TimerPass
from engine.timebounds import TimeLimits

_engine_now: ContextVar[datetime | None] = ContextVar("_engine_now", default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = _engine_now.get()
        if current is None:
            # Outside an engine step nothing should arm a timer; fail loudly
            # rather than silently falling back to the wall clock.
            raise RuntimeError("SpiffWorkflow timer evaluated outside engine_time()")
        return current.astimezone(tz) if tz is not None else current.astimezone(UTC).replace(tzinfo=None)


@contextmanager
def engine_time(now: datetime, limits: TimeLimits | None = None) -> Iterator[TimerPass]:
    """Make SpiffWorkflow's timers see ``now``, and arm within ``limits``, for the duration of a step."""
    if now.tzinfo is None:
        raise ValueError("engine_time needs an aware datetime")
    token = _engine_now.set(now)
    try:
        with timer_guard.timer_pass(limits or TimeLimits(), now) as timers:
            yield timers
    finally:
        _engine_now.reset(token)


def _inherit_data_deep(self: Task) -> None:
    self.data.update(data_copy(self.parent.data))


# China keeps one offset all year; a naive timer date in a model or in case
# data means Beijing time, whatever the server's own zone (G8: SpiffWorkflow
# would otherwise freeze the server's import-time offset).
NAIVE_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def apply() -> None:
    _timer_module.datetime = _ClockedDatetime
    _timer_module.LOCALTZ = NAIVE_TZ
    Task._inherit_data = _inherit_data_deep
    timer_guard.install()


apply()
