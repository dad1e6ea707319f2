"""Work on user tasks: complete, claim, 转交, 回退, and the reads a task page needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from engine.errors import ConflictError, InvalidRequestError, NotFoundError
from engine.events import EventDraft
from engine.ports import InstanceRecord, TaskRow, Unit
from engine.runtime.run import InstanceRun
from engine.runtime.send_back import send_back as reopen_previous
from engine.service.core import Core, InstanceView
from engine.service.stepping import Extra, Step, annotate, step

Guard = Callable[[TaskRow, InstanceRecord], None]


def _gone(task_id: str) -> NotFoundError:
    return NotFoundError(f"待办任务 {task_id} 不存在或已办理", code="TASK_NOT_FOUND")


def _done_on(unit: Unit, instance_id: str, task_id: str) -> bool:
    """Whether the instance's audit chain records the task's completion (read only on the refusal path)."""
    return any(e.type == "task_completed" and e.task_id == task_id for e in unit.events(instance_id))


def complete(
    core: Core,
    instance_id: str,
    task_id: str,
    data: Any,
    *,
    actor: str | None,
    expected_revision: int | None = None,
    guard: Guard | None = None,
    extra: Extra | None = None,
) -> InstanceView:
    """``guard`` (authorization) sees the task's index row and the instance in
    the step's own transaction, and raises to refuse."""

    def op(run: InstanceRun, now: datetime) -> list[EventDraft]:
        return run.complete_task(task_id, data, actor=actor, now=now)

    def check(unit: Unit, record: InstanceRecord) -> None:
        row = unit.get_ready_task(task_id)
        if row is None and _done_on(unit, instance_id, task_id):
            # Of concurrent completions one wins; the others lost a race, not a task.
            raise ConflictError(f"待办任务 {task_id} 已被他人办理完毕，请刷新后查看", code="TASK_ALREADY_DONE")
        if row is None or row.instance_id != instance_id:
            raise _gone(task_id)
        if guard is not None:
            guard(row, record)

    request = Step(instance_id, op, expected_revision, check if guard else None, extra)
    return step(core, request)


def ready_task(core: Core, task_id: str) -> TaskRow:
    with core.store.reader() as unit:
        row = unit.get_ready_task(task_id)
    if row is None:
        raise _gone(task_id)
    return row


def task_data(core: Core, instance_id: str, task_id: str) -> dict[str, Any]:
    with core.store.reader() as unit:
        return core.load(unit, core.instance(unit, instance_id)).task_data(task_id)


def assign(core: Core, task_id: str, assignee: str | None, *, actor: str | None, reason: str | None) -> TaskRow:
    """Claim (assignee = actor), unclaim (None) or 转交 (someone else, with a
    reason). A claim of a task someone else holds is a conflict."""
    with core.store.unit() as unit:
        row = unit.get_ready_task(task_id)
        if row is None:
            raise _gone(task_id)
        if assignee == row.assignee:
            return row
        if assignee is None:
            kind = "task_unclaimed"
        elif assignee == actor:
            if row.assignee is not None:
                raise ConflictError(f"任务已由 {row.assignee} 认领", code="TASK_CLAIMED")
            kind = "task_claimed"
        else:
            if not reason:
                raise InvalidRequestError("转交须填写原因", code="REASSIGN_REASON")
            kind = "task_reassigned"
        payload = {"name": row.name, "lane": row.lane, "from": row.assignee, "to": assignee, "reason": reason}
        annotate(core, unit, row.instance_id, EventDraft(kind, payload, task_id, row.element_id, actor))
        unit.set_assignee(task_id, assignee)
        return replace(row, assignee=assignee)


def send_back(core: Core, instance_id: str, task_id: str, *, reason: str, actor: str | None) -> InstanceView:
    """回退: reopen the user task before this one, where the model allows it."""
    if not reason:
        raise InvalidRequestError("回退须填写原因", code="SEND_BACK_REASON")

    def op(run: InstanceRun, now: datetime) -> list[EventDraft]:
        return reopen_previous(run, task_id, reason=reason, actor=actor, now=now)

    return step(core, Step(instance_id, op))
