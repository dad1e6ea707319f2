"""回退: send a case back to the user task before the current one.

SpiffWorkflow can reset a workflow to an earlier task, but a reset deletes
the subtree after it (G12) and would silently drop parallel work or undo
nothing of what a service call or a sent message did outside. So we allow it
only where that cannot happen: the current task and the previous user task
are in the main process, nothing else is active, and between the two lie only
exclusive gateways, scripts and boundary-event plumbing. Everything else is
refused with a reason; the audit log keeps what the reset removes from the
workflow's own history.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, BoundaryEventSplit, BpmnStartTask, StartEventSplit
from SpiffWorkflow.bpmn.specs.mixins import ExclusiveGatewayMixin, NoneTaskMixin, ScriptTaskMixin, StartEventMixin
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.errors import InvalidRequestError
from engine.events import EventDraft
from engine.runtime.observe import data_diff
from engine.runtime.run import RUNNING, InstanceRun
from engine.runtime.tasks import all_tasks

PASSABLE = (ExclusiveGatewayMixin, ScriptTaskMixin, NoneTaskMixin, BoundaryEventSplit, BoundaryEventJoin)
START = (StartEventMixin, BpmnStartTask, StartEventSplit)
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def _refuse(reason: str) -> InvalidRequestError:
    return InvalidRequestError(f"不能回退：{reason}", code="SEND_BACK_NOT_ALLOWED")


def previous_user_task(run: InstanceRun, task_id: str) -> Task:
    """The completed user task the case would go back to, or a refusal."""
    if run.status != RUNNING:
        raise _refuse("实例不在运行中")
    task = next((t for t in all_tasks(run.workflow) if str(t.id) == task_id), None)
    if task is None or task.state != TaskState.READY or not task.task_spec.manual:
        raise _refuse("该任务不是当前待办")
    if task.workflow is not run.workflow:
        raise _refuse("任务位于子流程或多实例中")
    node = task.parent
    while node is not None:
        spec = node.task_spec
        if spec.manual and node.state == TaskState.COMPLETED:
            break
        if isinstance(spec, START):
            node = None
            break
        if not isinstance(spec, PASSABLE):
            raise _refuse(f"上一步与本步之间有「{spec.bpmn_name or spec.name}」，其效果无法撤回")
        node = node.parent
    if node is None:
        raise _refuse("本任务之前没有可退回的人工环节")
    target: Task = node
    below = {t.id for t in target}
    others = [t for t in all_tasks(run.workflow) if t.state & ACTIVE and t.id not in below and t is not target]
    if others:
        raise _refuse("实例中还有并行办理的其他环节")
    return target


def send_back(run: InstanceRun, task_id: str, *, reason: str, actor: str | None, now: datetime) -> list[EventDraft]:
    target = previous_user_task(run, task_id)
    current = next(t for t in all_tasks(run.workflow) if str(t.id) == task_id)
    spec = current.task_spec
    event = EventDraft(
        "task_sent_back",
        {
            "name": spec.bpmn_name or spec.name,
            "to_task": str(target.id),
            "to_element": target.task_spec.bpmn_id or target.task_spec.name,
            "to_name": target.task_spec.bpmn_name or target.task_spec.name,
            "reason": reason,
        },
        task_id,
        spec.bpmn_id or spec.name,
        actor,
    )
    before = run.data()
    following = run.advance(now, lambda: _reset(run, target))
    # The reset takes the data back to what the earlier task saw: recorded, so
    # the case can be rebuilt from the chain alone (engine/history.py).
    diff = data_diff(before, run.data())
    if diff["added"] or diff["changed"] or diff["removed"]:
        event.payload["data_diff"] = diff
    return [event, *following]


def _reset(run: InstanceRun, target: Task) -> None:
    workflow = run.workflow
    workflow.reset_from_task_id(target.id)
    # SpiffWorkflow 3.2.0 keeps removed waiting events (a boundary timer) in its
    # event manager, and the next timer refresh trips over their missing parent.
    manager = workflow.event_manager
    for task_id in [tid for tid in manager.tasks if tid not in workflow.tasks]:
        manager.tasks.pop(task_id)
