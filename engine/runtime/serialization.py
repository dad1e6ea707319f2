"""Serializing workflows without their specs.

SpiffWorkflow embeds the whole process spec in every instance blob (notes §2.11,
G11). We store a spec once per process version and keep instance state small:
the workflow converter here leaves the spec out and takes restored spec
objects from the caller, so a hot instance never re-parses or re-restores the
spec it shares with thousands of others.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from copy import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

SERIALIZER_VERSION = "1.5"


@dataclass(frozen=True)
class RestoredSpec:
    """A process spec and the subprocess specs it calls, as live objects."""

    spec: Any
    subprocess_specs: dict[str, Any]


_restoring: ContextVar[RestoredSpec | None] = ContextVar("_restoring", default=None)


@lru_cache(maxsize=8192)
def _uuid(text: str) -> UUID:
    """A task id, parsed once: each is read as an id, a parent and a child (UUIDs never change)."""
    return UUID(text)


def _inherited(parent_data: dict[str, Any]) -> dict[str, Any]:
    """``DeepMerge.merge({}, parent_data)``: the top level copied, containers shallowly."""
    return {key: copy(value) if isinstance(value, dict | list | set) else value for key, value in parent_data.items()}


@lru_cache(maxsize=8192)
def _text(task_id: UUID) -> str:
    return str(task_id)


class FastTaskConverter(TaskConverter):
    """SpiffWorkflow's TaskConverter, the same dicts and tasks for less: every step saves
    and restores every task of the instance."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            # What the task changed from its parent's data (DeepMerge.get_updated_keys and get_deleted_keys).
            before, after = parent.data, task.data
            data = {}
            delta = {
                "updates": {key: value for key, value in after.items() if key not in before or value != before[key]},
                "deletions": [key for key in before if key not in after],
            }
        return {
            "id": _text(task.id),
            "parent": _text(task._parent) if parent is not None else None,
            "children": [_text(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(task.internal_data),
            "data": data,
            "delta": delta,
        }

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Task:
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=_uuid(dct["id"]))
        task._parent = _uuid(dct["parent"]) if dct["parent"] is not None else None
        task._children = [_uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = task.parent
        if delta and parent is not None:
            data = _inherited(parent.data)
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                if key in data:
                    del data[key]
        else:
            data = self.registry.restore(dct["data"])
        task.data = data
        return task


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        restored = _restoring.get()
        if restored is None:
            raise RuntimeError("restore_workflow() must supply the spec")
        workflow = self.target_class(restored.spec, restored.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_registry() -> Any:
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    return registry


_registry = _build_registry()
_spec_serializer = BpmnWorkflowSerializer(_registry, version=SERIALIZER_VERSION)

_specless_registry = _build_registry()
FastTaskConverter(Task, _specless_registry)
_specless_registry.register(
    BpmnWorkflow,
    SpeclessWorkflowConverter(BpmnWorkflow, _specless_registry).to_dict,
    SpeclessWorkflowConverter(BpmnWorkflow, _specless_registry).from_dict,
)
_specless = BpmnWorkflowSerializer(_specless_registry, version=SERIALIZER_VERSION)


def spec_to_dict(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a process version's specs (JSON-safe)."""
    return {
        "spec": _spec_serializer.to_dict(spec),
        "subprocess_specs": {name: _spec_serializer.to_dict(s) for name, s in subprocess_specs.items()},
    }


def spec_from_dict(stored: dict[str, Any]) -> RestoredSpec:
    return RestoredSpec(
        spec=_spec_serializer.from_dict(json.loads(json.dumps(stored["spec"]))),
        subprocess_specs={
            name: _spec_serializer.from_dict(json.loads(json.dumps(s)))
            for name, s in stored.get("subprocess_specs", {}).items()
        },
    )


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Instance state as JSON text, without the spec."""
    _specless_registry._encoder_mode = True
    try:
        dct = _specless.to_dict(workflow)
        dct[_specless.VERSION_KEY] = SERIALIZER_VERSION
        return json.dumps(dct, cls=_specless._encoder_cls, separators=(",", ":"))
    finally:
        _specless_registry._encoder_mode = False


def load_workflow(state: str, restored: RestoredSpec) -> BpmnWorkflow:
    dct = json.loads(state, cls=_specless.json_decoder_cls)
    version = dct.pop(_specless.VERSION_KEY)
    if version != SERIALIZER_VERSION:
        raise RuntimeError(f"instance state has serializer version {version}, expected {SERIALIZER_VERSION}")
    token = _restoring.set(restored)
    try:
        return _specless.from_dict(dct)
    finally:
        _restoring.reset(token)
