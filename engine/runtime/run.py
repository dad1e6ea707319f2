"""One process instance, live in memory, and what each step did to it.

An :class:`InstanceRun` wraps a SpiffWorkflow ``BpmnWorkflow``. Every operation
(start, complete a task, fire timers, retry, terminate) runs inside the
injected engine time, and is observed: task states before and after are
compared and turned into :class:`EventDraft` records for the audit log. We
never read history back out of SpiffWorkflow's task data (G1, G4, G12).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.datacopy import data_copy
from engine.deploy.model import ProcessDefinition
from engine.errors import (
    ConflictError,
    FormValidationError,
    InstanceStateError,
    InvalidRequestError,
    Location,
    NotFoundError,
)
from engine.events import EventDraft
from engine.forms.validate import non_finite, validate_submission
from engine.runtime import spiff_patches, timer_guard
from engine.runtime.connectors import ConnectorCall, recording
from engine.runtime.incidents import Incident, incident_from_exception
from engine.runtime.observe import data_diff, drain_bpmn_events, firings, task_events, with_script_diff
from engine.runtime.serialization import RestoredSpec, dump_workflow, load_workflow
from engine.runtime.tasks import ReadyTask, WaitingTimer, all_tasks, is_bpmn_element, ready_view, waiting_timer
from engine.timebounds import TimeLimits

RUNNING, COMPLETED, FAILED, INCIDENT, TERMINATED = "running", "completed", "failed", "incident", "terminated"
ACTIVE_STATES = frozenset({RUNNING, INCIDENT})


class InstanceRun:
    def __init__(
        self,
        workflow: BpmnWorkflow,
        definition: ProcessDefinition,
        script_engine: Any,
        *,
        status: str = RUNNING,
        incident: Incident | None = None,
        limits: TimeLimits | None = None,
    ) -> None:
        self.workflow = workflow
        self.definition = definition
        self.status = status
        self.incident = incident
        self.limits = limits or TimeLimits()
        workflow.script_engine = script_engine  # not serialized by SpiffWorkflow (§2.10)

    @classmethod
    def new(
        cls, definition: ProcessDefinition, restored: RestoredSpec, script_engine: Any, limits: TimeLimits | None = None
    ) -> InstanceRun:
        return cls(BpmnWorkflow(restored.spec, restored.subprocess_specs), definition, script_engine, limits=limits)

    @classmethod
    def load(
        cls,
        state: str,
        definition: ProcessDefinition,
        restored: RestoredSpec,
        script_engine: Any,
        *,
        status: str,
        incident: Incident | None,
        limits: TimeLimits | None = None,
    ) -> InstanceRun:
        workflow = load_workflow(state, restored)
        return cls(workflow, definition, script_engine, status=status, incident=incident, limits=limits)

    def dump(self) -> str:
        return dump_workflow(self.workflow)

    # -- reading -------------------------------------------------------------

    def ready_tasks(self) -> list[ReadyTask]:
        if self.status not in ACTIVE_STATES:
            return []
        ready = []
        for task in all_tasks(self.workflow):
            if task.state == TaskState.READY and task.task_spec.manual:
                ready.append(ready_view(task, self.definition))
        return ready

    def waiting_timers(self) -> list[WaitingTimer]:
        if self.status not in ACTIVE_STATES:
            return []
        timers = []
        for task in all_tasks(self.workflow):
            if task.state == TaskState.WAITING:
                timer = waiting_timer(task)
                if timer is not None:
                    timers.append(timer)
        return timers

    def active_stages(self) -> list[tuple[str, str, str]]:
        """(task id, element id, SLA stage) of every task or waiting event whose
        element names an ``slaStage`` property."""
        if self.status not in ACTIVE_STATES:
            return []
        stages = []
        for task in all_tasks(self.workflow):
            spec = task.task_spec
            waiting = task.state == TaskState.WAITING and isinstance(spec, CatchingEvent)
            # A task that failed (incident) is still the stage being worked on.
            working = task.state in (TaskState.READY, TaskState.ERROR) and spec.manual
            if not (waiting or working):
                continue
            stage = getattr(spec, "extensions", {}).get("properties", {}).get("slaStage")
            if stage:
                stages.append((str(task.id), spec.name, stage))
        return stages

    def passed(self, element_id: str) -> bool:
        """Has ``element_id`` completed, with the case moved on from it (not
        back waiting for it, as after 补正 the 受理 task is done again)?"""
        done = waiting = False
        for task in all_tasks(self.workflow):
            if task.task_spec.name != element_id:
                continue
            done = done or task.state == TaskState.COMPLETED
            waiting = waiting or task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED, TaskState.ERROR)
        return done and not waiting

    def lane_of(self, task_id: str) -> str | None:
        lane: str | None = self._find_task(task_id).task_spec.lane
        return lane

    def task_data(self, task_id: str) -> dict[str, Any]:
        """The data one task sees (a partner's handoff, say), not the whole case's."""
        return dict(self._find_task(task_id).data)

    def data(self) -> dict[str, Any]:
        if self.workflow.is_completed():
            return dict(self.workflow.data)
        last = self.workflow.last_task
        return dict(last.data) if last is not None else {}

    # -- operations ----------------------------------------------------------

    def start(
        self, data: Mapping[str, Any], *, actor: str | None, now: datetime, validate: bool = True
    ) -> list[EventDraft]:
        """``validate`` False: the engine starts a child for its parent's
        ``start_process``; the parent's model, not a person, chose the data."""
        if not isinstance(data, Mapping):
            raise InvalidRequestError("启动数据必须是 JSON 对象", code="START_DATA_INVALID")
        definition = self.definition
        if validate and definition.start_form is not None:
            where = Location(definition.file, definition.start_event or definition.process_id, "startEvent")
            data = validate_submission(definition.start_form, dict(data), location=where)
        bad = non_finite(dict(data))
        if bad:
            raise FormValidationError(bad, location=Location(definition.file, definition.process_id))
        root = self.workflow.get_next_task(state=TaskState.READY)
        root.data.update(data_copy(dict(data)))
        events = [
            EventDraft(
                "instance_started",
                {"process_id": definition.process_id, "data": data_copy(dict(data))},
                actor=actor,
            )
        ]
        return events + self.advance(now, lambda: None)

    def complete_task(self, task_id: str, form_data: Any, *, actor: str | None, now: datetime) -> list[EventDraft]:
        self._require(RUNNING)
        task = self._find_task(task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise ConflictError("该任务已被处理或当前不可办理", code="TASK_NOT_READY")
        view = ready_view(task, self.definition)
        form = view.info.form if view.info else None
        location = Location(self.definition.file, view.element_id, "userTask")
        submitted = validate_submission(form, form_data, location=location)  # already our own copy
        # Top-level keys are replaced, never mutated in place, so a shallow
        # copy keeps every old value the diff compares.
        before = dict(task.data)
        variable = view.info.variable_name if view.info else None
        if variable:
            task.data[variable] = data_copy(submitted)
        else:
            # Not add_data_from_form: its deep merge corrupts lists (G6).
            task.data.update(data_copy(submitted))
        completed = EventDraft(
            "task_completed",
            {
                "name": view.name,
                "lane": view.lane,
                "form_data": submitted,  # the snapshot; the task holds a copy
                "data_diff": data_diff(before, task.data),
            },
            task_id=task_id,
            element_id=view.element_id,
            actor=actor,
        )
        submitted_data = data_copy(task.data) if getattr(task.task_spec, "postscript", None) else None
        following = self.advance(now, task.run, skip={task.id})
        if submitted_data is not None:  # what the post-script changed is in the chain too
            with_script_diff(completed.payload, submitted_data, task.data)
        if task.state != TaskState.COMPLETED:
            # A post-script failed: the submission is kept for the record, but
            # the task is not done and must not read as done.
            completed.type = "task_submission_failed"
        return [completed, *following]

    def fire_timers(self, *, now: datetime) -> list[EventDraft]:
        if self.status != RUNNING:
            return []
        # SpiffWorkflow fires only when due < now; we promise due <= now (the
        # timer index says so too), hence the microsecond.
        return self.advance(now, self.workflow.refresh_timers, engine_now=now + timedelta(microseconds=1))

    def retry(self, data_patch: Mapping[str, Any], *, actor: str | None, now: datetime) -> list[EventDraft]:
        """Re-run the failed task after an administrator fixed its data."""
        self._require(INCIDENT)
        assert self.incident is not None
        failed = [t for t in all_tasks(self.workflow) if t.state == TaskState.ERROR]
        events = [EventDraft("incident_retried", {"data_patch": data_copy(dict(data_patch))}, actor=actor)]
        for task in failed:
            task.data.update(data_copy(dict(data_patch)))
            if timer_guard.rearm(task, data_patch):
                continue
            task._set_state(TaskState.READY)
            if task.task_spec.manual:  # back in someone's inbox
                view = ready_view(task, self.definition)
                events.append(
                    EventDraft("task_ready", {"name": view.name, "lane": view.lane}, view.id, view.element_id)
                )
        resolved = self.incident
        self.status, self.incident = RUNNING, None
        events += self.advance(now, lambda: None)
        if self.status != INCIDENT:
            events.append(
                EventDraft("incident_resolved", {"code": resolved.code}, resolved.task_id, resolved.element_id, actor)
            )
        return events

    def park(self, code: str, message: str) -> list[EventDraft]:
        """Put a running instance into an incident without running anything (a firing over its budget)."""
        if self.status != RUNNING:
            return []
        self.incident = Incident(None, None, code, message)
        self.status = INCIDENT
        return [self.incident.raised_event()]

    def terminate(self, reason: str, *, actor: str | None) -> list[EventDraft]:
        if self.status not in ACTIVE_STATES:
            raise InstanceStateError("实例已结束，不能终止", code="INSTANCE_ENDED")
        self.workflow.cancel()
        self.status, self.incident = TERMINATED, None
        return [EventDraft("instance_terminated", {"reason": reason}, actor=actor)]

    # -- internals -----------------------------------------------------------

    def _require(self, status: str) -> None:
        if self.status != status:
            labels = {
                RUNNING: "运行中",
                INCIDENT: "故障待处理",
                COMPLETED: "已办结",
                FAILED: "异常结束",
                TERMINATED: "已终止",
            }
            raise InstanceStateError(
                f"实例当前状态为「{labels.get(self.status, self.status)}」，不能执行此操作", code="INSTANCE_STATE"
            )

    def _find_task(self, task_id: str) -> Task:
        try:
            key: UUID | None = UUID(task_id)
        except (TypeError, ValueError, AttributeError):
            key = None
        if str(key) != task_id:  # only the spelling the engine gives out (and logs)
            key = None
        for tasks in (self.workflow.tasks, *(sub.tasks for sub in self.workflow.subprocesses.values())):
            if key in tasks:
                return tasks[key]
        raise NotFoundError(f"任务 {task_id} 不存在", code="TASK_NOT_FOUND")

    def _timer_map(self) -> dict[str, WaitingTimer]:
        return {t.task_id: t for t in self.waiting_timers()}

    def advance(
        self,
        now: datetime,
        action: Callable[[], Any],
        skip: Iterable[Any] = (),
        *,
        engine_now: datetime | None = None,
    ) -> list[EventDraft]:
        before = {t.id: t.state for t in all_tasks(self.workflow)}
        timers_before = self._timer_map()
        failure: BaseException | None = None
        with spiff_patches.engine_time(engine_now or now, self.limits) as timers, recording() as calls:
            try:
                action()
                self.workflow.do_engine_steps()
            except Exception as exc:  # any task failure becomes an incident, never a 500
                failure = exc
        failure = failure or timer_guard.refusal(timers)
        done = {c.task_id: c for c in calls if c.error is None}
        events = self._observe(before, timers_before, now, set(skip), done)
        events += [EventDraft("connector_failed", c.payload(), c.task_id, c.element_id) for c in calls if c.error]
        drained = drain_bpmn_events(self.workflow)
        if any(d.type == "instance_failed" for d in drained):
            self.status = FAILED  # an uncaught BPMN error ends the instance
        events += drained
        if failure is not None:
            self.incident = incident_from_exception(failure, self.workflow, self.definition)
            self.status = INCIDENT
            events.append(self.incident.raised_event())
        elif self.status == RUNNING:
            stalled = [t for t in all_tasks(self.workflow) if t.state == TaskState.READY and not t.task_spec.manual]
            if stalled:
                self.incident = Incident.stalled(stalled[0], self.definition)
                self.status = INCIDENT
                events.append(self.incident.raised_event())
            elif self.workflow.is_completed():
                self.status = COMPLETED
                events.append(EventDraft("instance_completed", {"data": data_copy(dict(self.workflow.data))}))
        return events

    def _observe(
        self,
        before: dict[Any, int],
        timers_before: dict[str, WaitingTimer],
        now: datetime,
        skip: set[Any],
        calls: Mapping[str, ConnectorCall],
    ) -> list[EventDraft]:
        timers_after = self._timer_map()
        changed = [
            t
            for t in all_tasks(self.workflow)
            if before.get(t.id) != t.state and t.id not in skip and is_bpmn_element(t)
        ]
        changed.sort(key=lambda t: t.last_state_change)
        events: list[EventDraft] = []
        for tid, timer in timers_before.items():
            after = timers_after.get(tid)
            if timer.due_at <= now and (after is None or after.due_at != timer.due_at):
                for due in firings(timer, after):
                    events.append(EventDraft("timer_fired", {"due_at": due.isoformat()}, tid, timer.element_id))
        for task in changed:
            events.extend(task_events(task, before.get(task.id), calls, self.definition))
        for tid, timer in timers_after.items():
            previous = timers_before.get(tid)
            if previous is None or previous.due_at != timer.due_at:
                events.append(EventDraft("timer_armed", {"due_at": timer.due_at.isoformat()}, tid, timer.element_id))
        return events
