"""What a step did, as audit events: the difference between task states and
waiting timers before and after, read from the outside (G1, G4, G12)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.deploy.model import ProcessDefinition
from engine.events import EventDraft
from engine.runtime.connectors import ConnectorCall
from engine.runtime.tasks import WaitingTimer, ready_view


def data_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    added = {k: v for k, v in after.items() if k not in before}
    changed = {k: {"old": before[k], "new": v} for k, v in after.items() if k in before and before[k] != v}
    removed = sorted(k for k in before if k not in after)
    return {"added": added, "changed": changed, "removed": removed}


def scripted(spec: Any) -> bool:
    """Whether a task carries a pre- or post-script (``spiffworkflow:preScript``/``postScript``)."""
    return bool(getattr(spec, "prescript", None) or getattr(spec, "postscript", None))


def with_script_diff(payload: dict[str, Any], before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """`payload` plus ``script_diff``, what a pre- or post-script changed, when it changed anything:
    only scripts change data, and every change they make is in the chain."""
    diff = data_diff(before, after)
    if diff["added"] or diff["changed"] or diff["removed"]:
        payload["script_diff"] = diff
    return payload


def firings(before: WaitingTimer, after: WaitingTimer | None) -> list[datetime]:
    """Every due moment a refresh fired: a cycle that caught up fired once per period."""
    if before.period_seconds and after is not None and after.due_at > before.due_at:
        count = round((after.due_at - before.due_at).total_seconds() / before.period_seconds)
        return [before.due_at + timedelta(seconds=before.period_seconds * i) for i in range(max(count, 1))]
    return [before.due_at]


def task_events(
    task: Task, old_state: int | None, calls: Mapping[str, ConnectorCall], definition: ProcessDefinition
) -> list[EventDraft]:
    spec, tid = task.task_spec, str(task.id)
    name = spec.bpmn_name or spec.name
    if task.state == TaskState.READY and spec.manual:
        view = ready_view(task, definition)
        payload = {"name": view.name, "lane": view.lane, "instance_key": view.instance_key}
        if getattr(spec, "prescript", None) and task.parent is not None:  # ran as the task became ready
            with_script_diff(payload, task.parent.data, task.data)
        return [EventDraft("task_ready", payload, tid, view.element_id)]
    if task.state == TaskState.CANCELLED and old_state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
        return [EventDraft("task_cancelled", {"name": name}, tid, spec.name)]
    if task.state != TaskState.COMPLETED:
        return []
    if isinstance(spec, CatchingEvent) and isinstance(spec.event_definition, TimerEventDefinition):
        return []  # reported as timer_fired from the timer index
    if spec.manual:
        return []  # reported by complete_task with its actor and form data
    kind = type(spec).__name__
    if kind.endswith("Gateway") and kind != "ParallelGateway":
        taken = [c.task_spec.name for c in task.children if c.state not in (TaskState.MAYBE, TaskState.LIKELY)]
        return [EventDraft("gateway_decided", {"name": name, "taken": taken}, tid, spec.name)]
    parent_data = task.parent.data if task.parent is not None else {}
    if tid in calls:  # a service task: what was asked and what came back
        payload = {"name": name, **calls[tid].payload()}
        with_element_diff(payload, spec, parent_data, task.data)
        return [EventDraft("connector_called", payload, tid, spec.name)]
    if kind == "ScriptTask":
        return [
            EventDraft("script_run", {"name": name, "data_diff": data_diff(parent_data, task.data)}, tid, spec.name)
        ]
    payload = {"name": name, "kind": kind}
    return [EventDraft("element_completed", with_element_diff(payload, spec, parent_data, task.data), tid, spec.name)]


def with_element_diff(
    payload: dict[str, Any], spec: Any, before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, Any]:
    """What an element changed in the data, so the case can be rebuilt from the chain alone
    (engine/history.py): a script's changes as ``script_diff`` (as before), otherwise what a
    decision table, a connector's result variable, a join or a called process left, as
    ``data_diff`` when it left anything."""
    if scripted(spec):
        return with_script_diff(payload, before, after)
    diff = data_diff(before, after)
    if diff["added"] or diff["changed"] or diff["removed"]:
        payload["data_diff"] = diff
    return payload


def drain_bpmn_events(workflow: BpmnWorkflow) -> list[EventDraft]:
    # get_events() empties SpiffWorkflow's queue: everything must be
    # recorded now or it is gone (G10).
    drafts = []
    for event in workflow.get_events():
        definition = event.event_definition
        kind = type(definition).__name__
        payload = {"name": getattr(definition, "name", None), "kind": kind}
        code = getattr(definition, "code", None)
        if kind == "ErrorEventDefinition":
            drafts.append(EventDraft("instance_failed", {**payload, "code": code, "reason": "uncaught_error"}))
        elif kind == "MessageEventDefinition":
            drafts.append(
                EventDraft("message_sent", {**payload, "payload": event.payload, "correlations": event.correlations})
            )
        else:
            drafts.append(EventDraft("event_uncaught", {**payload, "code": code}))
    return drafts
