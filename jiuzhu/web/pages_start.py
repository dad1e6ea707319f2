"""新建申请: the procedures the signed-in user may open, and each one's start
form, validated as the engine will, with the org unit chosen from the user's
scope. The start goes through the same gate as the API's (start form,
one open application per applicant, the unit's scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from engine.errors import FieldError, FormValidationError, InvalidRequestError
from engine.forms.validate import FormRef
from engine.ports import VersionRecord
from engine.service.core import InstanceView
from jiuzhu.web.auth import Viewer, can_act_on_task, csrf_protected, forbid, require_role
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.formrender.compile import FormRefused
from jiuzhu.web.formrender.page import handle_post, render_refusal, show_form
from jiuzhu.web.formrender.render import action_field
from jiuzhu.web.pages_inbox import flash
from jiuzhu.web.starting import START_ROLES, checked_unit, may_start, units_for
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
Starter = Annotated[Viewer, Depends(require_role(*START_ROLES))]
PREFIX = "f"


def _latest(versions: list[VersionRecord]) -> dict[str, VersionRecord]:
    latest: dict[str, VersionRecord] = {}
    for v in versions:
        if v.version >= latest.get(v.process_id, v).version:
            latest[v.process_id] = v
    return latest


def _startable(context: WebContext, viewer: Viewer) -> list[VersionRecord]:
    """The newest version of each procedure whose model lets the viewer start it."""
    latest = _latest(context.engine.versions())
    return sorted((v for v in latest.values() if may_start(viewer, v)), key=lambda v: v.process_id)


def _start_form(context: WebContext, viewer: Viewer, process_id: str) -> tuple[VersionRecord, FormRef]:
    found = _latest(context.engine.versions(process_id)).get(process_id)
    if found is None or not may_start(viewer, found):
        raise forbid("您的角色不能发起此流程")
    raw = found.definition.get("start_form")
    if not raw:
        raise forbid("此流程没有可在网页发起的开始表单")
    return found, FormRef(**raw)


@router.get("/cases/new")
def choose(request: Request, viewer: Starter) -> Response:
    context = web(request)
    return render(request, "case_new.html", {"procedures": _startable(context, viewer)})


def _page(
    request: Request,
    context: WebContext,
    viewer: Viewer,
    version: VersionRecord,
    fields: Markup,
    *,
    org_unit: str | None = None,
    unit_error: str | None = None,
    status: int = 200,
) -> Response:
    units = units_for(viewer, context.directory())
    values = {
        "version": version,
        "fields": fields,
        "units": units,
        "chosen": org_unit or (units[0].code if units else ""),
        "unit_error": unit_error,
        "act": action_field(PREFIX),
    }
    return render(request, "case_new_form.html", values, status=status)


@router.get("/cases/new/{process_id}")
def form(request: Request, viewer: Starter, process_id: str) -> Response:
    context = web(request)
    version, ref = _start_form(context, viewer, process_id)
    fields = show_form(ref, {}, full=False, field_prefix=PREFIX)
    return _page(request, context, viewer, version, fields)


@router.post("/cases/new/{process_id}", dependencies=[Depends(csrf_protected)])
async def start(request: Request, viewer: Starter, process_id: str) -> Response:
    context = web(request)
    version, ref = await run_in_threadpool(_start_form, context, viewer, process_id)
    options: dict[str, Any] = {"attachments": context.attachments, "full": False, "field_prefix": PREFIX}
    try:
        async with request.form() as posted:
            chosen = posted.get("org_unit")
            org_unit = chosen if isinstance(chosen, str) else None
            out = handle_post(ref, posted, **options)
            unit_error = None
            try:
                checked_unit(viewer, context.directory(), org_unit)
            except InvalidRequestError as refused:
                unit_error = refused.message
            if not out.complete or unit_error:
                status = 422 if out.errors or unit_error else 200
                return _page(request, context, viewer, version, out.html, org_unit=org_unit, unit_error=unit_error,
                             status=status)  # fmt: skip
            try:
                view = await run_in_threadpool(_open, context, viewer, process_id, out.data, org_unit)
            except FormValidationError as invalid:
                out = handle_post(ref, posted, extra_errors=_shown(invalid), **options)
                return _page(request, context, viewer, version, out.html, org_unit=org_unit, status=422)
    except FormRefused as refused:
        return _page(request, context, viewer, version, render_refusal(refused), status=422)
    return _landing(request, context, viewer, view, version.name)


def _shown(invalid: FormValidationError) -> list[FieldError]:
    return list(invalid.field_errors) or [FieldError("", invalid.code, invalid.message)]


def _open(context: WebContext, viewer: Viewer, process_id: str, data: dict[str, Any], org_unit: str | None) -> Any:
    unit = context.directory().unit(org_unit)
    return context.engine.start(
        process_id,
        data,
        actor=viewer.username,
        org_unit=org_unit,
        region=unit.region if unit else None,
        strict=True,
    )


def _landing(request: Request, context: WebContext, viewer: Viewer, view: InstanceView, name: str) -> Response:
    """The first task if the starter may work on it, else the new case's page."""
    flash(request, f"已新建「{name}」")
    for task in view.ready:
        row = context.engine.ready_task(task.id)
        if can_act_on_task(viewer, row, view.record):
            return RedirectResponse(f"/tasks/{task.id}", status_code=303)
    return RedirectResponse(f"/cases/{view.record.id}", status_code=303)
