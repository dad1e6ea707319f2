"""联办待办: a partner department's own handoffs (待签收, 办理中, history),
one handoff's minimised payload (each view audited), and 签收 / 退回民政 /
反馈结果 from the page. Another department's handoff is 404, never 403: its
existence is not theirs to know."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from engine.errors import FieldError, FormValidationError, JiuzhuError, NotFoundError
from engine.sla.clocks import local_date
from integrations.partner import desk
from jiuzhu.accounts import PARTNER, PARTNER_SIDE
from jiuzhu.overdue_alerts import department_overdue_alerts
from jiuzhu.web.auth import Viewer, csrf_protected, current_user, forbid
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.pages_inbox import flash, take_flashes
from jiuzhu.web.partner_view import (
    FIELD_LABELS,
    UNITS,
    deadline,
    errors_by_field,
    field_label,
    parse_report,
    shown_fields,
)
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
OPEN_TABS = ("sign", "result")
STATUS_LABELS = {"open": "办理中", "completed": "已办结", "returned": "已退回", "cancelled": "已撤销"}
OVERDUE_ALERT_CAP = 50  # open 督办 shown on the page, newest first


def partner_user(request: Request) -> Viewer:
    """A partner department's liaison or its head (联办部门负责人, who oversees, reads and is 督办'd)."""
    viewer = current_user(request)
    if not viewer.has(*PARTNER_SIDE) or viewer.department is None:
        raise forbid("联办待办仅供联办部门人员使用")
    return viewer


def partner_worker(request: Request) -> Viewer:
    """Only the liaison works a handoff; the head of the department oversees."""
    viewer = partner_user(request)
    if not viewer.has(PARTNER):
        raise forbid("签收、退回和反馈结果由本部门联络员办理")
    return viewer


PartnerUser = Annotated[Viewer, Depends(partner_user)]
PartnerWorker = Annotated[Viewer, Depends(partner_worker)]


def _supervised(context: WebContext, department: str) -> list[dict[str, Any]]:
    """The department's open 督办, each with its handoff (for the item's name and link)."""
    entries = department_overdue_alerts(context.engine, department)[:OVERDUE_ALERT_CAP]
    handoffs = desk.some(context.engine, department, [str(e.get("task_id")) for e in entries])
    out = []
    for entry in entries:
        raised = datetime.fromisoformat(entry["raised_at"]) if isinstance(entry.get("raised_at"), str) else None
        out.append({**entry, "handoff": handoffs.get(str(entry.get("task_id"))), "raised_at": raised})
    return out


def _deadline(context: WebContext, handoff: desk.Handoff) -> Any:
    today = local_date(context.engine.clock.now())
    return deadline(
        context.engine.calendar(), today, handoff.due_on, region=handoff.region, open_=handoff.status == "open"
    )


@router.get("/partner")
def partner_inbox(
    request: Request,
    viewer: PartnerUser,
    tab: Annotated[str, Query(pattern="^(" + "|".join(desk.TABS) + ")$")] = "sign",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    context = web(request)
    department = str(viewer.department)
    size = context.settings.inbox_page_size
    handoffs, total = desk.listing(context.engine, department, tab, page=page, page_size=size)
    desk.record_list_read(context.engine, department, handoffs, actor=viewer.username)
    values = {
        "department": department,
        "tab": tab,
        "tabs": desk.TABS,
        "counts": desk.counts(context.engine, department),
        "overdue_alerts": _supervised(context, department),
        "may_act": viewer.has(PARTNER),
        "lines": [(h, _deadline(context, h)) for h in handoffs],
        "page": page,
        "pages": max(1, -(-total // size)),
        "total": total,
        "flashes": take_flashes(request),
    }
    return render(request, "partner/inbox.html", values)


def _detail(
    request: Request,
    viewer: Viewer,
    handoff_id: str,
    *,
    error: JiuzhuError | None = None,
    field_errors: list[FieldError] | None = None,
    posted: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = web(request)
    handoff = desk.one(context.engine, str(viewer.department), handoff_id)
    desk.record_read(context.engine, handoff, actor=viewer.username)
    now = context.engine.clock.now()
    values = {
        "h": handoff,
        "fields": shown_fields(handoff.household),
        "due": _deadline(context, handoff),
        "status_label": STATUS_LABELS.get(handoff.status, handoff.status),
        "locked": handoff.status == "open" and handoff.leased(now),
        "may_act": viewer.has(PARTNER),
        "error": error,
        "field_errors": errors_by_field(field_errors or []),
        "posted": posted or {},
        "units": UNITS,
        "labels": FIELD_LABELS,
        "field_label": field_label,
        "flashes": take_flashes(request),
    }
    return render(request, "partner/handoff.html", values, status=status)


@router.get("/partner/handoffs/{handoff_id}")
def handoff_page(request: Request, viewer: PartnerUser, handoff_id: str) -> Response:
    return _detail(request, viewer, handoff_id)


def _refused(request: Request, viewer: Viewer, handoff_id: str, exc: JiuzhuError, posted: dict[str, str]) -> Response:
    """The page again, with the refusal where it belongs (a missing handoff stays a 404)."""
    if isinstance(exc, NotFoundError):
        raise exc
    field_errors = exc.field_errors if isinstance(exc, FormValidationError) else []
    status = 409 if exc.kind == "conflict" else 422 if exc.kind == "invalid" else 403
    return _detail(request, viewer, handoff_id, error=exc, field_errors=field_errors, posted=posted, status=status)


@router.post("/partner/handoffs/{handoff_id}/accept", dependencies=[Depends(csrf_protected)])
def accept(request: Request, viewer: PartnerWorker, handoff_id: str) -> Response:
    context = web(request)
    try:
        done = desk.accept(context.engine, actor=viewer.username, department=str(viewer.department),
                           handoff_id=handoff_id)  # fmt: skip
    except JiuzhuError as exc:
        return _refused(request, viewer, handoff_id, exc, {})
    following = desk.next_step(context.engine, done)
    flash(request, f"已签收「{done.item_name}」，办结后请反馈办理结果")
    target = f"/partner/handoffs/{following.id}" if following else "/partner?tab=result"
    return RedirectResponse(target, status_code=303)


@router.post("/partner/handoffs/{handoff_id}/return", dependencies=[Depends(csrf_protected)])
def return_(
    request: Request, viewer: PartnerWorker, handoff_id: str, reason: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    context = web(request)
    posted = {"return_reason": reason}
    if len(reason.strip()) < 2:
        missing = FieldError("return_reason", "FORM_REQUIRED", "请填写退回原因（至少 2 个字）")
        return _refused(request, viewer, handoff_id, FormValidationError([missing]), posted)
    try:
        done = desk.return_(context.engine, actor=viewer.username, department=str(viewer.department),
                            handoff_id=handoff_id, reason=reason.strip())  # fmt: skip
    except JiuzhuError as exc:
        return _refused(request, viewer, handoff_id, exc, posted)
    flash(request, f"已将「{done.item_name}」退回民政核实补正")
    return RedirectResponse("/partner?tab=returned", status_code=303)


Text = Annotated[str, Form(max_length=2000)]


@router.post("/partner/handoffs/{handoff_id}/report", dependencies=[Depends(csrf_protected)])
def report(
    request: Request,
    viewer: PartnerWorker,
    handoff_id: str,
    granted: Text = "",
    benefit: Text = "",
    amount: Text = "",
    amount_unit: Text = "",
    effective_from: Text = "",
    reason: Text = "",
) -> Response:
    posted = {"granted": granted, "benefit": benefit, "amount": amount, "amount_unit": amount_unit,
              "effective_from": effective_from, "reason": reason}  # fmt: skip
    result, errors = parse_report(posted)
    if errors:
        return _refused(request, viewer, handoff_id, FormValidationError(errors), posted)
    context = web(request)
    try:
        done = desk.report(context.engine, actor=viewer.username, department=str(viewer.department),
                           handoff_id=handoff_id, result=result)  # fmt: skip
    except JiuzhuError as exc:
        return _refused(request, viewer, handoff_id, exc, posted)
    flash(request, f"已反馈「{done.item_name}」的办理结果（{'享受' if result['granted'] else '不予享受'}）")
    return RedirectResponse("/partner?tab=completed", status_code=303)
