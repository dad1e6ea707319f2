"""The task page: what the task is, its case and deadline, and — for whoever
may act on it — the form, claim/unclaim, 转交 and 回退."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from engine.deploy import instructions
from engine.errors import FormValidationError
from engine.ports import Draft, TaskRow
from engine.runtime.task_facts import applicant, mask_id
from engine.runtime.tasks import ReadyTask
from engine.sandbox.templates import TemplateLimits
from jiuzhu.web.auth import (
    Viewer,
    can_act_on_task,
    can_see_task,
    csrf_protected,
    csrf_token,
    current_user,
    forbid,
    task_guard,
)
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.formrender.compile import FormRefused
from jiuzhu.web.formrender.page import handle_post, render_refusal, show_form
from jiuzhu.web.pages_inbox import claim, colleagues_of, flash, reassign, take_flashes, task_and_case, unclaim
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(current_user)]


def _live(context: WebContext, instance_id: str, task_id: str) -> tuple[ReadyTask, dict[str, Any]]:
    view = context.engine.get(instance_id)
    task = next((t for t in view.ready if t.id == task_id), None)
    if task is None:
        raise forbid("该任务已办理或不存在")
    return task, view.data


def _current(task: ReadyTask, data: dict[str, Any]) -> dict[str, Any]:
    """What the form shows first: the task's variable if it names one, else the case data."""
    variable = task.info.variable_name if task.info else None
    shown = data.get(variable) if variable else data
    return shown if isinstance(shown, dict) else {}


def _page(
    request: Request,
    context: WebContext,
    viewer: Viewer,
    task_id: str,
    form_html: Markup | None = None,
    status: int = 200,
) -> Response:
    row, record = task_and_case(context, task_id)
    if not can_see_task(viewer, row, record):
        raise forbid("您无权查看此任务")
    task, data = _live(context, record.id, task_id)
    may_act = can_act_on_task(viewer, row, record)
    if may_act and form_html is None and task.info and task.info.form:
        draft = context.drafts.load(task_id, viewer.username) if context.drafts else None
        form_html = show_form(
            task.info.form,
            _current(task, data),
            draft=draft,
            csrf_token=csrf_token(request),
            action=f"/tasks/{task_id}",
            drafts=context.drafts is not None,
        )
    directory = context.directory()
    text = task.info.instructions if task.info else None
    return render(
        request,
        "task.html",
        {
            "instructions": _instructions(context, record.id, record.process_id, task, text) if text else None,
            "row": row,
            "task": task,
            "record": record,
            "procedure": context.process_name(record.process_id),
            "org_name": directory.unit_name(record.org_unit),
            "applicant_name": applicant(data)[0],
            "id_masked": mask_id(applicant(data)[1]),
            "may_act": may_act,
            "mine": row.assignee == viewer.username,
            "form_html": form_html if may_act else None,
            "colleagues": colleagues_of(context, viewer) if may_act else [],
            "flashes": take_flashes(request),
        },
        status=status,
    )


def _instructions(context: WebContext, instance_id: str, process_id: str, task: ReadyTask, text: str) -> Markup:
    """Rendered under the scripts' budgets and the output cap; a failure shows a located message, never a 500."""
    settings = context.settings
    limits = TemplateLimits(
        settings.script_cpu_seconds, settings.script_memory_mb * 1024 * 1024, settings.template_output_kb * 1024
    )
    data = context.engine.task_data(instance_id, task.id)
    return instructions.render(text, data, where=f"流程 {process_id} 任务 {task.element_id}", limits=limits)


def _handoff_of(viewer: Viewer, row: TaskRow) -> bool:
    """A partner's own handoff: worked in 联办待办, where its reads are audited
    and a partner system's lease is respected."""
    return viewer.department is not None and row.facts.partner == viewer.department


@router.get("/tasks/{task_id}")
def task_page(request: Request, viewer: SignedIn, task_id: str) -> Response:
    context = web(request)
    if _handoff_of(viewer, context.engine.ready_task(task_id)):
        return RedirectResponse(f"/partner/handoffs/{task_id}", status_code=303)
    return _page(request, context, viewer, task_id)


@router.post("/tasks/{task_id}", dependencies=[Depends(csrf_protected)])
async def submit(request: Request, viewer: SignedIn, task_id: str) -> Response:
    # Reads and the completion run in the thread pool (they wait on the
    # database); authorization is checked once up front for the page, and
    # again by the guard inside the completing transaction.
    context = web(request)
    row, record = await run_in_threadpool(task_and_case, context, task_id)
    if not can_act_on_task(viewer, row, record) or _handoff_of(viewer, row):
        raise forbid("您无权办理此任务（联办事项请在「联办待办」中办理）")
    task, data = await run_in_threadpool(_live, context, record.id, task_id)
    guard = task_guard(viewer, own_handoffs=False)

    def complete(submitted: Any) -> None:
        context.engine.complete_task(record.id, task_id, submitted, actor=viewer.username, guard=guard)

    if task.info is None or task.info.form is None:  # a task without a form completes as it is
        await run_in_threadpool(complete, {})
        return _done(request, context, viewer, task_id, task.name)
    ref, current = task.info.form, _current(task, data)
    options: dict[str, Any] = {
        "attachments": context.attachments,
        "current": current,
        "csrf_token": csrf_token(request),
        "action": f"/tasks/{task_id}",
        "drafts": context.drafts is not None,
    }
    try:
        async with request.form() as posted:  # closes the uploaded files' temporary files
            out = handle_post(ref, posted, **options)
            if out.complete:
                try:
                    await run_in_threadpool(complete, out.data)
                except FormValidationError as invalid:
                    out = handle_post(ref, posted, extra_errors=invalid.field_errors, **options)
                    return await run_in_threadpool(_page, request, context, viewer, task_id, out.html, status=422)
                return _done(request, context, viewer, task_id, task.name)
    except FormRefused as refused:
        return await run_in_threadpool(_page, request, context, viewer, task_id, render_refusal(refused), status=422)
    if out.save_draft and context.drafts is not None:
        context.drafts.save(Draft(task_id, viewer.username, out.data, context.engine.clock.now(), record.id))
        flash(request, "草稿已保存")
        return RedirectResponse(f"/tasks/{task_id}", status_code=303)
    return await run_in_threadpool(
        _page, request, context, viewer, task_id, out.html, status=422 if out.errors else 200
    )


def _done(request: Request, context: WebContext, viewer: Viewer, task_id: str, name: str) -> Response:
    if context.drafts is not None:
        context.drafts.discard(task_id, viewer.username)
    flash(request, f"已办理「{name}」")
    return RedirectResponse("/inbox", status_code=303)


@router.post("/tasks/{task_id}/claim", dependencies=[Depends(csrf_protected)])
def claim_one(request: Request, viewer: SignedIn, task_id: str) -> Response:
    claim(web(request), viewer, task_id)
    flash(request, "已认领")
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.post("/tasks/{task_id}/unclaim", dependencies=[Depends(csrf_protected)])
def unclaim_one(request: Request, viewer: SignedIn, task_id: str) -> Response:
    unclaim(web(request), viewer, task_id)
    flash(request, "已取消认领，任务回到组内待办")
    return RedirectResponse("/inbox", status_code=303)


@router.post("/tasks/{task_id}/reassign", dependencies=[Depends(csrf_protected)])
def reassign_one(
    request: Request,
    viewer: SignedIn,
    task_id: str,
    to: Annotated[str, Form(min_length=1)],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    reassign(web(request), viewer, task_id, to, reason)
    flash(request, "已转交")
    return RedirectResponse("/inbox", status_code=303)


@router.post("/tasks/{task_id}/send-back", dependencies=[Depends(csrf_protected)])
def send_back(
    request: Request, viewer: SignedIn, task_id: str, reason: Annotated[str, Form(min_length=1, max_length=500)]
) -> Response:
    context = web(request)
    row, record = task_and_case(context, task_id)
    if not can_act_on_task(viewer, row, record):
        raise forbid("您无权回退此任务")
    context.engine.send_back(record.id, task_id, reason=reason.strip(), actor=viewer.username)
    flash(request, "已回退到上一环节")
    return RedirectResponse("/inbox", status_code=303)
