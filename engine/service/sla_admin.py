"""Administering time limits: 延期, clock status, 督办 lists and the on-time report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit
from engine.service.core import ClockStatus, Core, InstanceView
from engine.service.stepping import Step, step
from engine.sla import clocks as sla


def extend(
    core: Core, instance_id: str, *, reason: str, approver: str, approver_role: str, actor: str | None
) -> InstanceView:
    """延期: the overall limit becomes the policy's extended limit (30 → 45)."""

    def extend_overall(unit: Unit, record: InstanceRecord) -> list[EventDraft]:
        drafts = core.sla.extend(unit, record, reason=reason, approver=approver, approver_role=approver_role)
        for draft in drafts:
            draft.actor = actor
        return drafts

    return step(core, Step(instance_id, extra=extend_overall))


def status(core: Core, instance_id: str) -> list[ClockStatus]:
    now = core.clock.now()
    with core.store.reader() as unit:
        core.instance(unit, instance_id)
        calendar = core.sla.calendar(unit)
        return [ClockStatus(c, sla.state(c, now), sla.days_left(c, now, calendar)) for c in unit.clocks(instance_id)]


def overdue_alerts(
    core: Core,
    *,
    role: str | None = None,
    partner: str | None = None,
    instance_id: str | None = None,
    org_units: Sequence[str] | None = None,
    open_only: bool = True,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """督办 records, newest first; ``partner`` narrows to one 联办 department's,
    ``org_units`` to the cases of those units."""
    with core.store.reader() as unit:
        return unit.overdue_alerts(
            role=role, partner=partner, instance_id=instance_id, org_units=org_units, open_only=open_only, limit=limit
        )


def report(
    core: Core, since: datetime, until: datetime, *, process_id: str | None = None, org_unit: str | None = None
) -> list[dict[str, Any]]:
    """On-time rate of closed limits per process, org unit and stage."""
    with core.store.reader() as unit:
        closed = unit.closed_clocks(since, until)
    groups: dict[tuple[str, str | None, str], list[bool]] = {}
    for record, clock in closed:
        if (process_id and record.process_id != process_id) or (org_unit and record.org_unit != org_unit):
            continue
        key = (record.process_id, record.org_unit, clock.stage)
        groups.setdefault(key, []).append(sla.state(clock, until) == sla.CLOSED_ON_TIME)
    return [
        {
            "process_id": pid,
            "org_unit": org,
            "stage": stage,
            "closed": len(flags),
            "on_time": sum(flags),
            "late": len(flags) - sum(flags),
            "on_time_rate": round(sum(flags) / len(flags), 4),
        }
        for (pid, org, stage), flags in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2]))
    ]
