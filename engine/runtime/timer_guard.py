"""Timers arm only on values our bounded parser accepted, and a cycle fires at
most once per step.

SpiffWorkflow 3.2.0 evaluates a timer's expression when the timer arms and
computes the due moment itself: ``get_timedelta_from_start`` loops once per
month, so ``{"wait": "P99999999Y"}`` in case data holds the step's
transaction for hours; and every ``_update`` of a waiting cycle fires another
repetition, so a cycle that is behind fires all of them in one transaction.
These replacements of the three timer definitions' arming methods (installed
by :mod:`engine.runtime.spiff_patches`) evaluate the expression, read the
value with :mod:`engine.timebounds` and hold it to the engine's
:class:`~engine.timebounds.TimeLimits` first; only then store SpiffWorkflow's
own ``event_value`` and hand over to the original method, which finds the
timer armed. A refused value does not raise inside SpiffWorkflow's task
traversal (that would leave sibling tasks half-updated): the timer stays
unarmed, the refusal is collected, and
:meth:`engine.runtime.run.InstanceRun.advance` turns it into a located
incident on that element once the step's engine work is done.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.timebounds import Cycle, Duration, TimeLimits, TimerValueError, checked


@dataclass
class TimerPass:
    """What one step's timers did: the refusals, and the cycles that fired."""

    limits: TimeLimits
    now: datetime  # the engine time SpiffWorkflow's timers see in this step
    refused: dict[Any, tuple[Task, TimerValueError]] = field(default_factory=dict)
    fired_cycles: set[Any] = field(default_factory=set)


_pass: ContextVar[TimerPass | None] = ContextVar("_timer_pass", default=None)


@contextmanager
def timer_pass(limits: TimeLimits, now: datetime) -> Iterator[TimerPass]:
    current = TimerPass(limits, now.astimezone(UTC))
    token = _pass.set(current)
    try:
        yield current
    finally:
        _pass.reset(token)


def _current() -> TimerPass:
    current = _pass.get()
    if current is None:
        raise RuntimeError("SpiffWorkflow timer evaluated outside engine_time()")
    return current


def _aware(moment: datetime) -> datetime:
    # Exactly as SpiffWorkflow reads a naive date (spiff_patches sets LOCALTZ to Beijing).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_timer_module.LOCALTZ)


def _length(duration: Duration, start: datetime) -> timedelta:
    # Bounded now: the duration is at most max_duration_years, so at most 12 × that many months.
    delta: timedelta = TimerEventDefinition.get_timedelta_from_start(duration.as_spiff(), start)
    return delta


def _length_to(duration: Duration, end: datetime) -> timedelta:
    delta: timedelta = TimerEventDefinition.get_timedelta_from_end(duration.as_spiff(), end)
    return delta


def _arm(kind: str, definition: TimerEventDefinition, task: Task) -> bool:
    """Evaluate and check the timer's value and store SpiffWorkflow's ``event_value``;
    False: refused (collected for the incident), the timer stays unarmed."""
    current = _current()
    if task.id in current.refused:
        return False
    value = task.workflow.script_engine.evaluate(task, definition.expression)
    try:
        parsed = checked(kind, value, current.limits)
        now = current.now
        if isinstance(parsed, datetime):
            event_value: Any = _aware(parsed).astimezone(UTC).isoformat()
        elif isinstance(parsed, Duration):
            event_value = (now + _length(parsed, now)).isoformat()
        else:
            event_value = _cycle_value(parsed, now, current.limits)
    except TimerValueError as exc:
        current.refused[task.id] = (task, exc)
        return False
    task._set_internal_data(event_value=event_value)
    return True


def _cycle_value(cycle: Cycle, now: datetime, limits: TimeLimits) -> dict[str, Any]:
    # The same three forms as SpiffWorkflow's parse_iso_recurring_interval.
    if cycle.start is not None:
        start = _aware(cycle.start).astimezone(UTC)
        period = _length(cycle.interval, start)
    elif cycle.end is not None:
        end = _aware(cycle.end).astimezone(UTC)
        period = _length_to(cycle.interval, end)
        start = end - period
    else:
        period = _length(cycle.interval, now)
        start = now + period
    if period.total_seconds() < limits.min_interval_seconds:  # a calendar month can be shorter than its mean
        raise TimerValueError(
            f"循环周期「{cycle.text}」的间隔过短（至少 {limits.min_interval_seconds:g} 秒）", code="TIMER_OUT_OF_RANGE"
        )
    if cycle.repetitions is None and start < now:
        # Endless and starting long ago: every missed repetition would fire, one per sweep, for ever.
        behind = int((now - start) / period) + 1
        if behind > limits.max_repetitions:
            raise TimerValueError(
                f"循环周期「{cycle.text}」的开始时间过早：已有 {behind} 次重复到期，"
                f"超出上限（最多 {limits.max_repetitions} 次）",
                code="TIMER_OUT_OF_RANGE",
            )
    repetitions = -1 if cycle.repetitions is None else cycle.repetitions
    return {"cycles": repetitions, "next": start.isoformat(), "duration": period.total_seconds()}


def _guard_has_fired(kind: str, original: Callable[[Any, Task], bool]) -> Callable[[Any, Task], bool]:
    def has_fired(self: Any, my_task: Task) -> bool:
        if my_task._get_internal_data("event_value") is None and not _arm(kind, self, my_task):
            return False
        return original(self, my_task)

    return has_fired


def _guard_cycle(original: Callable[[Any, Task], bool]) -> Callable[[Any, Task], bool]:
    def cycle_complete(self: Any, my_task: Task) -> bool:
        if my_task._get_internal_data("event_value") is None and not _arm("timeCycle", self, my_task):
            return False
        current = _current()
        if my_task.id in current.fired_cycles:
            return False  # one repetition per step: a cycle behind catches up one sweep at a time
        ready = original(self, my_task)
        if ready:
            current.fired_cycles.add(my_task.id)
        return ready

    return cycle_complete


def refusal(timers: TimerPass) -> TimerValueError | None:
    """The step's first refused timer, now marked failed; its error carries the task for the incident."""
    if not timers.refused:
        return None
    task, error = next(iter(timers.refused.values()))
    task.workflow.top_workflow.event_manager.remove_task(task)
    task._set_state(TaskState.ERROR)
    error.task = task  # type: ignore[attr-defined]  # read by incident_from_exception
    return error


def rearm(task: Task, data_patch: Mapping[str, Any]) -> bool:
    """Put a timer that failed to arm back to waiting, with the administrator's data,
    so the retry's refresh evaluates it again. False: ``task`` is not such a timer."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition) or not isinstance(task.task_spec, CatchingEvent):
        return False
    if task.parent is not None:  # a waiting event inherits its parent's data at every refresh
        task.parent.data.update(copy.deepcopy(dict(data_patch)))
    task.internal_data.pop("event_value", None)
    task._set_state(TaskState.WAITING)
    task.workflow.top_workflow.event_manager.add_task(task)
    return True


def install() -> None:
    if getattr(TimerEventDefinition, "_jiuzhu_guarded", False):
        return
    TimeDateEventDefinition.has_fired = _guard_has_fired("timeDate", TimeDateEventDefinition.has_fired)
    DurationTimerEventDefinition.has_fired = _guard_has_fired("timeDuration", DurationTimerEventDefinition.has_fired)
    CycleTimerEventDefinition.cycle_complete = _guard_cycle(CycleTimerEventDefinition.cycle_complete)
    TimerEventDefinition._jiuzhu_guarded = True
