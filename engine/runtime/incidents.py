"""Incidents: a task failed, the instance waits for a person to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.errors import JiuzhuError
from engine.events import EventDraft
from engine.runtime.tasks import all_tasks
from engine.timebounds import TimerValueError

if TYPE_CHECKING:
    from engine.deploy.model import ProcessDefinition


@dataclass(frozen=True)
class Incident:
    task_id: str | None
    element_id: str | None
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Incident | None:
        return cls(**data) if data else None

    def raised_event(self) -> EventDraft:
        return EventDraft(
            "incident_raised", {"code": self.code, "message": self.message}, self.task_id, self.element_id
        )

    @classmethod
    def stalled(cls, task: Task, definition: ProcessDefinition) -> Incident:
        # SpiffWorkflow stops seeing tasks deeper than 1000 levels (G3); the
        # instance would hang silently, so we say so.
        return cls(
            str(task.id),
            task.task_spec.name,
            "ENGINE_STALLED",
            f"流程在「{_name(task, definition)}」处停滞：任务树过深（循环次数过多），请改用多实例或子流程建模",
        )


def _name(task: Task, definition: ProcessDefinition) -> str:
    return definition.element_names.get(task.task_spec.name) or task.task_spec.bpmn_name or task.task_spec.name


def incident_from_exception(exc: BaseException, workflow: Any, definition: ProcessDefinition) -> Incident:
    from engine.sandbox.scripts import find_script_error

    task = getattr(exc, "task", None)
    if task is None:
        task = next((t for t in all_tasks(workflow) if t.state == TaskState.ERROR), None)
    # A script's or a connector's own error says best what went wrong.
    known = find_script_error(exc) or find_script_error(exc, JiuzhuError)
    if known is not None:
        code, detail = known.code, known.message
    else:
        code, detail = "TASK_FAILED", str(exc) or type(exc).__name__
    where = f"「{_name(task, definition)}」" if task is not None else "流程"
    failed = "的计时器无法设定" if isinstance(known, TimerValueError) else "执行失败"
    return Incident(
        str(task.id) if task is not None else None,
        task.task_spec.name if task is not None else None,
        code,
        f"{where}{failed}：{detail}",
    )
