"""案件历史 for auditors: ``/audit/cases/{id}`` lists every event of a case's
audit chain (who, in what role, when in Beijing, what, the chain hash) with
the chain's verification, and ``/audit/cases/{id}/events/{seq}`` shows the case
as it stood right after one event: its data, the diff the event caused, the
ready tasks and who held them, the SLA clocks and the diagram of the exact
deployed version with the tokens and the path taken by then.

Everything shown is rebuilt from the recorded events (engine/history.py),
never from SpiffWorkflow's task data. Full 身份证号 are shown only to roles
that may see them, and each such showing is an access event on the case's
chain, as on the case page.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from engine.audit import AuditEvent
from engine.errors import NotFoundError
from engine.history import CaseAt, case_at, step_end
from engine.ports import InstanceRecord
from engine.runtime.task_facts import mask_id
from engine.sla.clocks import STATE_LABELS, days_until
from jiuzhu import timefmt
from jiuzhu.accounts import ADMIN, AUDITOR
from jiuzhu.web.audit_case_view import (
    change_rows,
    field_titles,
    id_values,
    kind_label,
    masked_ids,
    process_elements,
    tree,
)
from jiuzhu.web.auth import Viewer, require_role
from jiuzhu.web.case_data import household, masked
from jiuzhu.web.case_path import case_path, sequence_flows
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.deps import authorize_case, sees_full_id
from jiuzhu.web.pages_dossier import who_is
from jiuzhu.web.privacy import ID_VIEWED
from jiuzhu.web.routes import flat_routes
from jiuzhu.web.templating import render
from jiuzhu.web.timeline import timeline

router = APIRouter(include_in_schema=False)
HISTORY_ROLES = (AUDITOR, "county_officer", ADMIN)
Auditor = Annotated[Viewer, Depends(require_role(*HISTORY_ROLES))]
# The re-execution helper's route (jiuzhu/web/pages_replay.py); its 校验 button shows only when it exists.
REPLAY_ROUTE = "/audit/cases/{instance_id}/replay"
HISTORY_FIELD = "audit_history"


def _record(request: Request, user: Viewer, instance_id: str) -> InstanceRecord:
    record = web(request).engine.instance_record(instance_id)
    authorize_case(user, record)
    return record


def _definition(context: WebContext, record: InstanceRecord) -> dict[str, Any]:
    version = next((v for v in context.engine.versions(record.process_id) if v.version == record.version), None)
    return dict(version.definition) if version is not None else {}


def _chain(context: WebContext, record: InstanceRecord, events: list[AuditEvent]) -> dict[str, Any]:
    """The chain's verification (links, then the signed digest covering it), as the page says it."""
    verdict = context.engine.verify(record.id)[0]
    if verdict.ok:
        return {
            "ok": True,
            "text": f"记录完整（{verdict.events} 条事件，哈希链{'与签名摘要' if context.engine.anchors else ''}一致）",
        }
    broken = next((e for e in events if e.seq == verdict.broken_seq), None)
    if broken is None:
        where = f"第 {verdict.broken_seq} 条事件" if verdict.broken_seq else "审计链"
        return {"ok": False, "seq": verdict.broken_seq, "text": f"{where}：{verdict.reason}"}
    return {
        "ok": False,
        "seq": broken.seq,
        "kind": broken.type,
        "text": f"第 {broken.seq} 条事件「{kind_label(broken.type)}」被篡改：{verdict.reason}",
    }


def _replay_button(request: Request) -> bool:
    return any(r.path == REPLAY_ROUTE and "POST" in r.methods for r in flat_routes(request.app))


def _header(context: WebContext, record: InstanceRecord, events: list[AuditEvent]) -> dict[str, Any]:
    data = next((e for e in events if e.type == "instance_started"), None)
    started: Any = {}
    if data is not None:
        try:
            started = data.payload.get("data") or {}
        except ValueError:  # a tampered body: the chain state says so
            started = {}
    applicant = household(started).applicant if isinstance(started, dict) else {}
    return {
        "record": record,
        "procedure": context.process_name(record.process_id),
        "org_name": context.directory().unit_name(record.org_unit),
        "applicant_name": applicant.get("name") or "—",
        "applicant_id": mask_id(applicant.get("id_number")) or "—",
        "replay": False,
    }


@router.get("/audit/cases/{instance_id}")
def history_page(request: Request, user: Auditor, instance_id: str) -> Response:
    context = web(request)
    record = _record(request, user, instance_id)
    events = context.engine.events(record.id)
    who = who_is(context)
    told = {line.seq: line.text for line in timeline(events, _names(context, record))}
    rows = [
        {
            "seq": e.seq,
            "when": timefmt.moment(e.occurred_at),
            "who": who(e.actor)[0] if e.actor else "系统",
            "role": who(e.actor)[1] if e.actor else "—",
            "kind": kind_label(e.type),
            "text": told.get(e.seq, ""),
            "hash": e.hash[:12],
        }
        for e in events
    ]
    values = _header(context, record, events) | {"rows": rows, "chain": _chain(context, record, events)}
    values["replay"] = _replay_button(request)
    return render(request, "audit_case/page.html", values)


def _names(context: WebContext, record: InstanceRecord) -> dict[str, str]:
    names = _definition(context, record).get("element_names", {})
    return {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}


def _shown_data(
    context: WebContext, user: Viewer, record: InstanceRecord, at: CaseAt, seq: int
) -> tuple[dict[str, Any], bool]:
    """The data as the viewer may see it; full 身份证号 only for roles that may, and audited."""
    numbers = sorted(set(id_values(at.data)))
    if not numbers or not sees_full_id(user, record):
        return masked_ids(at.data), False
    detail = {"field": HISTORY_FIELD, "seq": seq, "shown": [mask_id(n) for n in numbers]}
    context.engine.record_access(record.id, ID_VIEWED, actor=user.username, detail=detail)
    return at.data, True


def _clocks(context: WebContext, record: InstanceRecord, at: CaseAt) -> list[dict[str, Any]]:
    calendar = context.engine.calendar()
    moment = at.event.occurred_at
    rows = []
    for c in at.clocks:
        left = None
        if c.open and c.due_on:
            left = days_until(date.fromisoformat(c.due_on), c.unit, moment, calendar, region=record.region)
        rows.append(
            {
                "name": "总时限" if c.key == "overall" else c.name,
                "stage": c.stage,
                "limit": f"{c.limit if c.limit is not None else '—'}{'个工作日' if c.unit == 'working_days' else '天'}",
                "started": timefmt.day(c.started_at),
                "due": timefmt.deadline(c.due_on),
                "left": timefmt.days_left_text(left, c.unit) if left is not None else "—",
                "state": c.state,
                "label": STATE_LABELS.get(c.state, c.state),
            }
        )
    return rows


@router.get("/audit/cases/{instance_id}/events/{seq}")
def event_page(request: Request, user: Auditor, instance_id: str, seq: Annotated[int, Path(ge=1)]) -> Response:
    context = web(request)
    record = _record(request, user, instance_id)
    events = context.engine.events(record.id)
    if not any(e.seq == seq for e in events):
        raise NotFoundError(f"该案件没有第 {seq} 条事件", code="EVENT_NOT_FOUND")
    definition = _definition(context, record)
    scope = process_elements(definition)
    own = case_at(events, seq, scope=scope)
    end = step_end(events, seq)
    at = case_at(events, end, scope=scope) if end != seq else own
    data, full = _shown_data(context, user, record, at, seq)
    titles = field_titles(definition)
    names = _names(context, record)
    who = who_is(context)
    source = context.engine.version_source(record.process_id, record.version)
    upto = [e for e in events if e.seq <= end]
    path = case_path(
        sequence_flows(source.name, source.content),
        upto,
        [t.element_id for t in at.ready],
        ended=at.status not in ("running", "incident"),
    )
    diagram = {
        "xml": f"/cases/{record.id}/diagram.bpmn",
        "current": sorted(path.current),
        "completed": sorted(path.completed),
        "flows": sorted(path.flows),
        "last": path.last,
    }
    people = household(data)
    step = [
        {"seq": e.seq, "kind": kind_label(e.type), "name": names.get(e.element_id or "", "")}
        for e in upto
        if e.seq >= seq
    ]
    values = _header(context, record, events) | {
        "event": own.event,
        "event_kind": kind_label(own.event.type),
        "event_who": "{}（{}）".format(*who(own.event.actor)) if own.event.actor else "系统",
        "seq": seq,
        "end": end,
        "step": step,
        "previous": seq - 1 if seq > 1 else None,
        "next": seq + 1 if seq < events[-1].seq else None,
        "status": at.status,
        "people": people if full else masked(people),
        "full_id": full,
        "data_tree": tree(data, titles),
        "changes": change_rows(own.changes, titles, full_ids=full),
        "ready": [
            {"name": t.name, "lane": t.lane or "—", "assignee": who(t.assignee)[0] if t.assignee else None}
            for t in at.ready
        ],
        "waiting": [
            {"name": names.get(w.element_id, w.element_id), "due": timefmt.due_moment(w.due_at)} for w in at.waiting
        ],
        "tokens": [names.get(t, t) for t in at.tokens],
        "path_names": [names.get(p, p) for p in at.path],
        "clocks": _clocks(context, record, at),
        "diagram_json": json.dumps(diagram, ensure_ascii=False),
        "chain": _chain(context, record, events),
        "unreadable": at.unreadable,
    }
    values["replay"] = _replay_button(request)
    return render(request, "audit_case/event.html", values)
