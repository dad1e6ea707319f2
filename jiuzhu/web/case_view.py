"""Gathering what the case, ledger and dashboard pages show from the engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.audit import AuditEvent
from engine.decisions import Decision
from engine.ports import InstanceRecord
from engine.service.facade import ClockStatus, InstanceView
from jiuzhu.accounts import Directory
from jiuzhu.web.case_data import household
from jiuzhu.web.case_decision import body_name, decision_of, notices_profile
from jiuzhu.web.context import WebContext
from jiuzhu.web.deps import Viewer, may_open
from jiuzhu.web.ledger import LedgerRow, ledger_row


@dataclass(frozen=True)
class Case:
    view: InstanceView
    clocks: list[ClockStatus]
    row: LedgerRow
    decision: Decision | None
    events: list[AuditEvent]

    @property
    def overall(self) -> ClockStatus | None:
        return next((c for c in self.clocks if c.clock.key == "overall"), None)


def accepted_at(events: Sequence[AuditEvent]) -> datetime | None:
    """受理: the moment the overall limit started, as the audit chain recorded
    it. The policy names where that is (民发〔2021〕57号 第22条 "自受理之日起"
    for 低保: the 受理审查 task's completion), so a case still waiting for
    受理 or for 补正 has no 受理日期."""
    for e in events:
        if e.type == "sla_clock_started" and e.payload.get("clock") == "overall":
            return e.occurred_at
    return None


def places(directory: Directory, code: str | None) -> tuple[str | None, str | None]:
    """(乡镇(街道), 村(社区)) names of the org unit a case belongs to."""
    unit = directory.unit(code)
    if unit is None:
        return None, None
    if unit.kind == "village":
        return directory.unit_name(unit.parent), unit.name
    return (unit.name, None) if unit.kind == "township" else (None, None)


def element_names(context: WebContext, record: InstanceRecord) -> dict[str, str]:
    version = next((v for v in context.engine.versions(record.process_id) if v.version == record.version), None)
    names: dict[str, Any] = version.definition.get("element_names", {}) if version else {}
    return {str(k): str(v) for k, v in names.items()}


def load_case(context: WebContext, instance_id: str) -> Case:
    engine = context.engine
    view = engine.get(instance_id)
    clocks = engine.sla_status(instance_id)
    overall = next((c for c in clocks if c.clock.key == "overall"), None)
    township, village = places(context.directory(), view.record.org_unit)
    events = engine.events(instance_id)
    decided = decision_of(context.settings.processes_dir, view.record, events, context.engine)
    body = None
    if decided is not None:
        unit_name = context.directory().unit_name(view.record.org_unit)
        body = body_name(notices_profile(context.settings.notices_file), decided, township, unit_name)
    row = ledger_row(
        view.record,
        household(view.data),
        decided,
        body,
        procedure=context.process_name(view.record.process_id),
        township=township,
        village=village,
        ready_names=[t.name for t in view.ready],
        overall=overall.clock if overall else None,
        state_code=overall.state if overall else None,
        days_left=overall.days_left if overall else None,
    )
    return Case(view, clocks, row, decided, events)


def visible_cases(
    context: WebContext, viewer: Viewer, *, process_id: str | None = None, status: str | None = None, limit: int
) -> list[Case]:
    """Every case the viewer may open, newest first."""
    # Scope in the query: a limit cut before the scope filter would hide cases in scope.
    scope = None if viewer.scope is None else list(viewer.scope)
    records = context.engine.list_instances(process_id=process_id, status=status, limit=limit, org_units=scope)
    seen = [r for r in records if may_open(viewer, r)]
    return sorted((load_case(context, r.id) for r in seen), key=lambda c: c.view.record.created_at, reverse=True)
