"""The inbox (待办): my claimed tasks and my lanes' unclaimed tasks in my
scope, with filters, counts per SLA state, and claim / 转交 in bulk."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from engine.errors import ConflictError, JiuzhuError
from engine.ports import InstanceRecord, TaskRow
from engine.sla.clocks import STATE_LABELS, days_until, local_date
from integrations.ports import InboxQuery, InboxRow, User
from jiuzhu.inbox import SORTS, STATES, VIEWS
from jiuzhu.overdue_alerts import addressed_to
from jiuzhu.web.auth import Viewer, can_act_on_task, csrf_protected, current_user, forbid, viewer_for
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.inbox_filters import org_choices, procedure_choices
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
OVERDUE_ALERT_CAP = 50  # open 督办 shown above the inbox, newest first
SignedIn = Annotated[Viewer, Depends(current_user)]


@dataclass(frozen=True)
class Line:
    """One inbox row as shown."""

    row: InboxRow
    procedure: str
    org_name: str
    days_left: int | None  # in row.due_unit: natural days for a 补正 or 先行救助决定, like the case page


def inbox_query(viewer: Viewer, now: datetime, page_size: int, **filters: Any) -> InboxQuery:
    return InboxQuery(
        me=viewer.username,
        now=now,
        lanes=viewer.lanes,
        scope=viewer.scope,
        partner=viewer.department if viewer.department and not viewer.scope else None,
        page_size=page_size,
        **filters,
    )


def flash(request: Request, message: str, *, code: str | None = None) -> None:
    """A Chinese sentence for the next page; a refusal's ``code`` rides along
    for machines (``data-code``), never in the text people read."""
    request.session.setdefault("flash", []).append({"message": message, "code": code} if code else message)


def take_flashes(request: Request) -> list[str | dict[str, str]]:
    messages: list[str | dict[str, str]] = request.session.pop("flash", [])
    return messages


@router.get("/inbox")
def inbox(
    request: Request,
    viewer: SignedIn,
    view: Annotated[str, Query(pattern="^(all|mine|unclaimed)$")] = "all",
    # Empty is 全部: the filter form and the pager send every field, chosen or not.
    state: Annotated[str | None, Query(pattern="^(" + "|".join(STATES) + ")?$")] = None,
    process: Annotated[str | None, Query(max_length=200)] = None,
    org: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$")] = "due",
    desc: bool = False,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    if viewer.department is not None:
        return RedirectResponse("/partner", status_code=303)  # a partner department works in 联办待办
    context = web(request)
    now = context.engine.clock.now()
    query = inbox_query(
        viewer,
        now,
        context.settings.inbox_page_size,
        view=view,
        state=state,
        process_id=process or None,
        org_unit=org or None,
        search=q or None,
        sort=sort,
        descending=desc,
        page=page,
    )
    result = context.inbox.query(query)
    lines = _lines(context, result.rows, now)
    values = {
        "lines": lines,
        "total": result.total,
        "counts": result.counts,
        "query": query,
        "pages": max(1, -(-result.total // query.page_size)),
        "views": VIEWS,
        "states": [s for s in STATES if s in result.counts or s != "none"],
        "state_labels": STATE_LABELS,
        "colleagues": colleagues_of(context, viewer),
        "flashes": take_flashes(request),
        "filters": {"view": view, "state": state or "", "process": process or "", "org": org or "", "q": q or ""},
    }
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "inbox-table":
        return render(request, "_inbox_table.html", values)
    values["overdue_alerts"] = [] if viewer.department else _supervised(context, viewer)
    values["process_choices"] = procedure_choices(context.engine.versions(), process)
    values["org_choices"] = org_choices(viewer, context.directory(), org)
    return render(request, "inbox.html", values)


def _supervised(context: WebContext, viewer: Viewer) -> list[dict[str, Any]]:
    """督办 addressed to the viewer's roles, with the case's procedure and business key."""
    directory, out = context.directory(), []
    for s in addressed_to(context.engine, viewer, limit=OVERDUE_ALERT_CAP):
        record = context.engine.instance_record(s["instance_id"])
        raised = datetime.fromisoformat(s["raised_at"])
        out.append({**s, "raised_at": raised, "procedure": context.process_name(record.process_id), "record": record,
                    "org_name": directory.unit_name(s["org_unit"])})  # fmt: skip
    return out


def _lines(context: WebContext, rows: list[InboxRow], now: datetime) -> list[Line]:
    directory = context.directory()
    calendar = context.engine.calendar() if any(r.due_at for r in rows) else None
    out = []
    for r in rows:
        days = None
        if r.due_at is not None and calendar is not None:
            days = days_until(local_date(r.due_at), r.due_unit, now, calendar, region=r.due_region)
        out.append(Line(r, context.process_name(r.process_id), directory.unit_name(r.org_unit), days))
    return out


def colleagues_of(context: WebContext, viewer: Viewer) -> list[User]:
    """People a task can be handed to (转交): same org unit, a shared role."""
    return [
        u
        for u in context.accounts.users()
        if u.org_unit == viewer.org_unit and u.username != viewer.username and u.active and u.has(*viewer.roles)
    ]


# -- actions -----------------------------------------------------------------------


def task_and_case(context: WebContext, task_id: str) -> tuple[TaskRow, InstanceRecord]:
    task = context.engine.ready_task(task_id)
    return task, context.engine.instance_record(task.instance_id)


def claim(context: WebContext, viewer: Viewer, task_id: str) -> TaskRow:
    task, record = task_and_case(context, task_id)
    if not can_act_on_task(viewer, task, record):
        raise forbid("您无权认领此任务")
    return context.engine.assign_task(task_id, viewer.username, actor=viewer.username)


def unclaim(context: WebContext, viewer: Viewer, task_id: str) -> TaskRow:
    task, record = task_and_case(context, task_id)
    if task.assignee != viewer.username and not viewer.has("admin"):
        raise forbid("只能退回自己认领的任务")
    return context.engine.assign_task(task_id, None, actor=viewer.username)


def reassign(context: WebContext, viewer: Viewer, task_id: str, to: str, reason: str) -> TaskRow:
    task, record = task_and_case(context, task_id)
    if not can_act_on_task(viewer, task, record):
        raise forbid("您无权转交此任务")
    target = context.accounts.find_user(to)
    unassigned = replace(task, assignee=None)
    if target is None or not target.active:
        raise forbid(f"账号 {to} 不存在或已停用")
    if not can_act_on_task(viewer_for(target, context.directory()), unassigned, record):
        raise forbid(f"{target.display_name} 的角色或单位不能办理此任务")
    return context.engine.assign_task(task_id, target.username, actor=viewer.username, reason=reason.strip())


def _bulk(request: Request, ids: list[str], action: Any, done: str) -> Response:
    ok, failed = 0, []
    for task_id in ids:
        try:
            action(task_id)
            ok += 1
        except (ConflictError, JiuzhuError) as exc:
            failed.append(exc.message)
    flash(request, f"{done} {ok} 件" + (f"；{len(failed)} 件未成功：{failed[0]}" if failed else ""))
    return RedirectResponse("/inbox", status_code=303)


@router.post("/inbox/claim", dependencies=[Depends(csrf_protected)])
def bulk_claim(request: Request, viewer: SignedIn, task_ids: Annotated[list[str], Form()]) -> Response:
    context = web(request)
    return _bulk(request, task_ids, lambda tid: claim(context, viewer, tid), "已认领")


@router.post("/inbox/reassign", dependencies=[Depends(csrf_protected)])
def bulk_reassign(
    request: Request,
    viewer: SignedIn,
    task_ids: Annotated[list[str], Form()],
    to: Annotated[str, Form(min_length=1)],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    context = web(request)
    return _bulk(request, task_ids, lambda tid: reassign(context, viewer, tid, to, reason), "已转交")
