"""档案保管期限: when a case's archive may be disposed of, from policy data.

The policy (``JIUZHU_RETENTION_FILE``, ``demo/retention.json``) gives the
years a case is kept after it ends (at least 5) and the years a recipient's
file is kept after they exit assistance. A case falls due at the later of
its end plus the case years and, for a recipient (a case decided 纳入), the
exit plus the recipient years. The exit is the date a 停保/退出 procedure
records in the case data as ``exited_on``; until one is recorded a
recipient's file is not due. A case still running is never due.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from engine.audit import AuditEvent
from engine.clock import SHANGHAI
from engine.errors import InvalidRequestError

MIN_CASE_YEARS = 5
END_EVENTS = ("instance_completed", "instance_terminated", "instance_failed")
RECIPIENT_OUTCOMES = ("纳入",)


@dataclass(frozen=True)
class RetentionPolicy:
    case_years_after_end: int
    recipient_years_after_exit: int


@dataclass(frozen=True)
class Retention:
    instance_id: str
    ended_on: date | None
    exited_on: date | None
    recipient: bool
    due_on: date | None  # None: not due while running or while a recipient has not exited

    @property
    def reason(self) -> str:
        if self.ended_on is None:
            return "案件未办结"
        if self.recipient and self.exited_on is None:
            return "救助对象尚未退出"
        return "办结后期满" if not self.recipient else "办结及退出后期满"


def load_policy(path: Path) -> RetentionPolicy:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        policy = RetentionPolicy(int(raw["case_years_after_end"]), int(raw["recipient_years_after_exit"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError(f"档案保管期限配置 {path.name} 无法读取：{exc}", code="RETENTION_POLICY") from exc
    if policy.case_years_after_end < MIN_CASE_YEARS or policy.recipient_years_after_exit < 0:
        raise InvalidRequestError(
            f"档案保管期限配置 {path.name}：案件办结后至少保存 {MIN_CASE_YEARS} 年", code="RETENTION_POLICY"
        )
    return policy


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def _exit(data: dict[str, Any]) -> date | None:
    value = data.get("exited_on")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def retention(
    policy: RetentionPolicy, instance_id: str, events: Sequence[AuditEvent], data: dict[str, Any], outcome: str | None
) -> Retention:
    ended = next((e.occurred_at for e in reversed(events) if e.type in END_EVENTS), None)
    ended_on = ended.astimezone(SHANGHAI).date() if ended is not None else None
    recipient = outcome in RECIPIENT_OUTCOMES
    exited_on = _exit(data) if recipient else None
    due = None
    if ended_on is not None and (not recipient or exited_on is not None):
        due = add_years(ended_on, policy.case_years_after_end)
        if exited_on is not None:
            due = max(due, add_years(exited_on, policy.recipient_years_after_exit))
    return Retention(instance_id, ended_on, exited_on, recipient, due)


def due_before(items: Sequence[Retention], day: date) -> list[Retention]:
    """Cases whose retention runs out before ``day``, soonest first."""
    due = [r for r in items if r.due_on is not None and r.due_on < day]
    return sorted(due, key=lambda r: (r.due_on or day, r.instance_id))
