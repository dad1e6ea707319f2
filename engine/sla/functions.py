"""Working-day functions for BPMN expressions (timer dates, scripts).

SpiffWorkflow evaluates a timer's ``timeDate`` as a Python expression in our
sandbox, so a model can say ``sla_due("start_investigation")`` or
``add_working_days(accepted_on, 3)``. The functions read the instance's
calendar, policy, region and the engine's clock from a context the engine
sets around each step; they return ISO datetimes (the end of the deadline
day in Beijing), which is what SpiffWorkflow's timers accept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.errors import ScriptError
from engine.sla.clocks import end_of_day, local_date
from engine.sla.policy import SlaPolicy
from engine.workcal.calendar import WorkCalendar


@dataclass(frozen=True)
class SlaContext:
    calendar: WorkCalendar
    policy: SlaPolicy | None
    region: str | None
    now: datetime


_context: ContextVar[SlaContext | None] = ContextVar("_sla_context", default=None)


@contextmanager
def sla_context(ctx: SlaContext) -> Iterator[None]:
    token = _context.set(ctx)
    try:
        yield
    finally:
        _context.reset(token)


def _ctx() -> SlaContext:
    ctx = _context.get()
    if ctx is None:
        raise ScriptError("工作日函数只能在流程执行中使用", code="SLA_NO_CONTEXT")
    return ctx


def _start(start: Any) -> date:
    ctx = _ctx()
    if start is None:
        return local_date(ctx.now)
    if isinstance(start, datetime):
        return local_date(start)
    if isinstance(start, date):
        return start
    if isinstance(start, str):
        try:
            parsed = datetime.fromisoformat(start)
        except ValueError:
            raise ScriptError(f"日期格式不正确：{start!r}（应为 YYYY-MM-DD）", code="SLA_DATE_INVALID") from None
        return local_date(parsed) if parsed.tzinfo else parsed.date()
    raise ScriptError(f"不是日期：{start!r}", code="SLA_DATE_INVALID")


def add_working_days(start: Any, n: int) -> str:
    ctx = _ctx()
    result = ctx.calendar.add_working_days(_start(start), int(n), region=ctx.region)
    return end_of_day(result.date).isoformat()


def add_natural_days(start: Any, n: int, roll_to_working_day: bool = True) -> str:
    ctx = _ctx()
    result = ctx.calendar.add_natural_days(
        _start(start), int(n), roll_to_working_day=roll_to_working_day, region=ctx.region
    )
    return end_of_day(result.date).isoformat()


def _limit_end(stage: str, start: Any, before: int) -> str:
    ctx = _ctx()
    if ctx.policy is None:
        raise ScriptError("本实例未适用任何时限政策，无法计算时限", code="SLA_NO_POLICY")
    limit = ctx.policy.stage(stage)
    roll = limit.roll_to_working_day and not before
    end = ctx.calendar.deadline(
        _start(start), limit.limit - before, limit.unit, region=ctx.region, roll_to_working_day=roll
    )
    return end_of_day(end.date).isoformat()


def sla_due(stage: str, start: Any = None) -> str:
    """When the policy's limit for ``stage`` (or "overall") runs out."""
    return _limit_end(stage, start, 0)


def sla_warning(stage: str, start: Any = None) -> str:
    """When the policy's warning for ``stage`` is due (``warn_before`` days early)."""
    ctx = _ctx()
    before = ctx.policy.stage(stage).warn_before if ctx.policy else 0
    return _limit_end(stage, start, before)


def today() -> str:
    return local_date(_ctx().now).isoformat()


def case_region() -> str | None:
    """The region code of the org unit handling the case (what picked its policy)."""
    return _ctx().region


HELPERS: dict[str, Callable[..., Any]] = {
    "add_working_days": add_working_days,
    "add_natural_days": add_natural_days,
    "sla_due": sla_due,
    "sla_warning": sla_warning,
    "today": today,
    "case_region": case_region,
}
