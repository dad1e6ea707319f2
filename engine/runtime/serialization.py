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
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

SERIALIZER_VERSION = "1.5"


@dataclass(frozen=True)
class RestoredSpec:
    """A process spec and the subprocess specs it calls, as live objects."""

    spec: Any
    subprocess_specs: dict[str, Any]


_restoring: ContextVar[RestoredSpec | None] = ContextVar("_restoring", default=None)


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
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
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
