"""Walking a workflow's tasks, and the views of them the rest of Jiuzhu reads:
the user tasks ready for someone, and the timers waiting to fire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task

from engine.deploy.model import ProcessDefinition, UserTaskInfo
from engine.runtime import spiff_patches


@dataclass(frozen=True)
class ReadyTask:
    id: str
    element_id: str
    name: str
    lane: str | None
    info: UserTaskInfo | None
    instance_key: str | None = None  # multi-instance: the item (unit, handoff code) this task is for


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    element_id: str
    due_at: datetime
    period_seconds: float | None = None  # cycle timers: the time between firings


def all_tasks(workflow: BpmnWorkflow) -> list[Task]:
    # Iterate the dicts, not get_tasks(): the iterator stops at depth 1000
    # (G3) and below unfinished parents (G4).
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return tasks


def waiting_timer(task: Task) -> WaitingTimer | None:
    """The due time SpiffWorkflow stored when the timer armed. Event-based
    gateways and multiple-event catches keep it on themselves (G8)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if definition is None:
        return None
    parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    if not any(isinstance(d, TimerEventDefinition) for d in parts):
        return None
    value = task.internal_data.get("event_value")
    period = None
    if isinstance(value, dict):  # a cycle: {"cycles": n, "next": iso, "duration": seconds}
        if value.get("cycles") == 0:
            return None
        period = float(value.get("duration") or 0) or None
        value = value.get("next")
    if not isinstance(value, str):
        return None
    due = datetime.fromisoformat(value)
    if due.tzinfo is None:
        due = due.replace(tzinfo=spiff_patches.NAIVE_TZ)  # exactly how SpiffWorkflow reads it
    return WaitingTimer(str(task.id), task.task_spec.name, due.astimezone(UTC), period)


def is_bpmn_element(task: Task) -> bool:
    return getattr(task.task_spec, "bpmn_id", None) is not None


def ready_view(task: Task, definition: ProcessDefinition) -> ReadyTask:
    spec = task.task_spec
    info = definition.user_tasks.get(spec.name)
    name = info.name if info else (spec.bpmn_name or spec.name)
    lane = info.lane if info else spec.lane
    # A multi-instance child is "x [child]" to SpiffWorkflow; people and
    # the audit log know it by its BPMN id plus the item it works on.
    key = task.internal_data.get("key_or_index")
    if info is not None and info.name_shows_item and isinstance(key, str) and key:
        name = f"{name}（{key}）"  # a keyed collection's key names the item; a list index would not
    return ReadyTask(str(task.id), spec.bpmn_id or spec.name, name, lane, info, None if key is None else str(key))
