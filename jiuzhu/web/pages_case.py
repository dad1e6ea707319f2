"""案件: the case list with its .xlsx 台账, and the case page (household,
documents, timeline, diagram with position and path, SLA panel)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.errors import NotFoundError
from engine.runtime.task_facts import mask_id
from engine.sla.clocks import STATE_LABELS
from jiuzhu.web.access_log import accesses
from jiuzhu.web.case_data import documents, household, id_numbers, masked
from jiuzhu.web.case_decision import OUTCOME_LABELS, case_rules
from jiuzhu.web.case_items import case_items
from jiuzhu.web.case_path import case_path, sequence_flows
from jiuzhu.web.case_view import Case, accepted_at, element_names, load_case, visible_cases
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.deps import CurrentUser, authorize_case, may_open, sees_full_id
from jiuzhu.web.ledger import COLUMNS, STATUS_LABELS, ledger_xlsx
from jiuzhu.web.pages_audit_case import HISTORY_ROLES
from jiuzhu.web.pages_dossier import ACCESS_LOG_ROLES, DOSSIER_ROLES, who_is
from jiuzhu.web.pages_notices import available_notices
from jiuzhu.web.pages_replay import REPLAY_ROLES
from jiuzhu.web.privacy import ID_VIEWED
from jiuzhu.web.templating import render
from jiuzhu.web.timeline import escalated_to, timeline

router = APIRouter(include_in_schema=False)
LEDGER_LIMIT = 5000  # cases per 台账 page or export; a county's year fits
STATUS_PATTERN = "^(" + "|".join(STATUS_LABELS) + ")$"
DOCUMENT_DOWNLOADED = "document_downloaded"


def _display_name(request: Request) -> Callable[[str], str]:
    names = {u.username: u.display_name for u in web(request).accounts.users()}
    return lambda username: names.get(username, username)


@router.get("/cases")
def case_list(
    request: Request,
    user: CurrentUser,
    process: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
) -> Response:
    cases = visible_cases(web(request), user, process_id=process or None, status=status, limit=LEDGER_LIMIT)
    query = urlencode({k: v for k, v in (("process", process), ("status", status)) if v})
    return render(
        request,
        "case/list.html",
        {"cases": cases, "columns": COLUMNS, "statuses": STATUS_LABELS, "status": status or "", "query": query},
    )


@router.get("/cases/ledger.xlsx")
def ledger_export(
    request: Request,
    user: CurrentUser,
    process: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
) -> Response:
    context = web(request)
    cases = visible_cases(context, user, process_id=process or None, status=status, limit=LEDGER_LIMIT)
    now = context.engine.clock.now()
    body = ledger_xlsx([c.row for c in cases], title=f"社会救助案件台账（{user.org_name}）", generated=now)
    name = f"ledger-{now:%Y%m%d}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _case(request: Request, user: CurrentUser, instance_id: str) -> Case:
    context = web(request)
    authorize_case(user, context.engine.instance_record(instance_id))
    return load_case(context, instance_id)


@router.get("/cases/{instance_id}")
def case_page(request: Request, user: CurrentUser, instance_id: str) -> Response:
    context = web(request)
    case = _case(request, user, instance_id)
    record, data = case.view.record, case.view.data
    people = household(data)
    full = sees_full_id(user, record) and bool(id_numbers(people))
    if full:
        # One access record per page view, naming every number shown.
        detail = {"field": "case_page", "shown": [mask_id(v) for v in id_numbers(people)]}
        context.engine.record_access(record.id, ID_VIEWED, actor=user.username, detail=detail)
    events = case.events
    names = element_names(context, record)
    source = context.engine.version_source(record.process_id, record.version)
    path = case_path(
        sequence_flows(source.name, source.content),
        events,
        [t.element_id for t in case.view.ready],
        ended=record.status not in ("running", "incident"),
    )
    open_overdue_alerts = {(s["clock"], s["due_on"]) for s in context.engine.overdue_alerts(instance_id=record.id)}
    overdue_alerts = [
        {
            "at": e.occurred_at,
            "name": e.payload.get("name"),
            "due_on": e.payload.get("due_on"),
            "to": escalated_to(e.payload),
            "open": (e.payload.get("clock"), e.payload.get("due_on")) in open_overdue_alerts,
        }
        for e in events
        if e.type == "sla_overdue"
    ]
    extensions = [e for e in events if e.type == "sla_extended"]
    diagram = {
        "xml": f"/cases/{record.id}/diagram.bpmn",
        "current": sorted(path.current),
        "completed": sorted(path.completed),
        "flows": sorted(path.flows),
        "last": path.last,
    }
    return render(
        request,
        "case/page.html",
        {
            "case": case,
            "record": record,
            "accepted_at": accepted_at(events),
            "procedure": context.process_name(record.process_id),
            "org_name": context.directory().unit_name(record.org_unit),
            "people": people if full else masked(people),
            "full_id": full,
            "documents": documents(data),
            "decided": case.decision,
            "decided_by": _display_name(request)(case.decision.decided_by)
            if case.decision and case.decision.decided_by
            else None,
            "outcome_labels": OUTCOME_LABELS,
            "notices": available_notices(context, case),
            "timeline": timeline(
                events, names, _display_name(request), {s.clock.stage: s.clock.name for s in case.clocks}
            ),
            "decides": case_rules(context.settings.processes_dir, record, context.engine) is not None,
            "diagram_json": json.dumps(diagram, ensure_ascii=False),
            "overdue_alerts": overdue_alerts,
            "items": case_items(data, events),
            "linked": _linked_case(context, user, data),
            "extensions": extensions,
            "state_labels": STATE_LABELS,
            "status_label": STATUS_LABELS.get(record.status, record.status),
            "dossier": user.has(*DOSSIER_ROLES),
            "replay": user.has(*REPLAY_ROLES),
            "history": user.has(*HISTORY_ROLES),
            "accesses": accesses(events, who_is(context)) if user.has(*ACCESS_LOG_ROLES) else None,
        },
    )


def _linked_case(context: WebContext, user: CurrentUser, data: Mapping[str, Any]) -> str | None:
    """The 一件事联办 case a 低保 approval started (start_process), if the viewer may open it."""
    started = data.get("yijianshi_case")
    child = started.get("instance_id") if isinstance(started, Mapping) else None
    if not isinstance(child, str):
        return None
    try:
        record = context.engine.instance_record(child)
    except NotFoundError:
        return None
    return child if may_open(user, record) else None


@router.get("/cases/{instance_id}/documents/{sha256}")
def document(request: Request, user: CurrentUser, instance_id: str, sha256: str) -> Response:
    """One uploaded 材料 of the case, as a download; every download is audited.
    Only a file the case's own data refers to is served: a digest from another
    case is not found here."""
    context = web(request)
    record = context.engine.instance_record(instance_id)
    authorize_case(user, record)
    found = next((d for d in documents(context.engine.get(instance_id).data) if d.sha256 == sha256), None)
    store = context.attachments
    if found is None or store is None or not store.exists(sha256):
        raise NotFoundError("该材料不存在或已不在存储中", code="DOCUMENT_NOT_FOUND")
    detail = {"field": found.field, "name": found.name, "sha256": sha256}
    context.engine.record_access(record.id, DOCUMENT_DOWNLOADED, actor=user.username, detail=detail)
    return Response(
        store.get(sha256),
        media_type=found.mime or "application/octet-stream",
        # Always a download, never rendered in our origin: an uploaded HTML file cannot script the app.
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/cases/{instance_id}/diagram.bpmn")
def diagram_xml(request: Request, user: CurrentUser, instance_id: str) -> Response:
    context = web(request)
    record = context.engine.instance_record(instance_id)
    authorize_case(user, record)
    source = context.engine.version_source(record.process_id, record.version)
    return Response(source.content, media_type="application/xml")
