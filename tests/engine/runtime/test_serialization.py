"""engine.runtime.serialization saves and restores tasks as SpiffWorkflow's own TaskConverter does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.task import Task

from engine.clock import FixedClock
from engine.runtime import serialization
from engine.runtime.serialization import RestoredSpec, dump_workflow, load_workflow
from engine.service.facade import Engine
from integrations.sql import SqlStore
from tests.support import decided_cases as dc


def spiff_registry() -> Any:
    """The module's specless registry, with SpiffWorkflow's TaskConverter instead of ours."""
    registry = serialization._build_registry()
    converter = serialization.SpeclessWorkflowConverter(serialization.BpmnWorkflow, registry)
    registry.register(serialization.BpmnWorkflow, converter.to_dict, converter.from_dict)
    TaskConverter(Task, registry)
    return registry


SPIFF = BpmnWorkflowSerializer(spiff_registry(), version=serialization.SERIALIZER_VERSION)


def spiff_dump(workflow: Any) -> str:
    SPIFF.registry._encoder_mode = True
    try:
        dct = SPIFF.to_dict(workflow)
    finally:
        SPIFF.registry._encoder_mode = False
    dct[SPIFF.VERSION_KEY] = serialization.SERIALIZER_VERSION
    return json.dumps(dct, cls=SPIFF._encoder_cls, separators=(",", ":"))


def spiff_load(state: str, restored: RestoredSpec) -> Any:
    spiff = SPIFF
    dct = json.loads(state)
    dct.pop(spiff.VERSION_KEY)
    token = serialization._restoring.set(restored)
    try:
        return spiff.from_dict(dct)
    finally:
        serialization._restoring.reset(token)


def states(engine: Engine, clock: FixedClock) -> list[tuple[str, RestoredSpec]]:
    """A 低保 case's state after each of its steps up to 审核确认 (a timer, a call, scripts on the way)."""
    seen: list[tuple[str, RestoredSpec]] = []
    original = engine.core.load

    def load(unit: Any, record: Any) -> Any:
        _, restored = engine.core.definition(unit, record.process_id, record.version)
        seen.append((record.state, restored))
        return original(unit, record)

    engine.core.load = load  # type: ignore[method-assign]
    dc.decided(engine, clock, dc.APPROVE)
    return seen


def tree(workflow: Any) -> list[tuple[Any, ...]]:
    tasks = [*workflow.tasks.values(), *(t for sub in workflow.subprocesses.values() for t in sub.tasks.values())]
    return [
        (t.id, t._parent, t._children, t.state, t.task_spec.name, t.triggered, t.last_state_change, t.data)
        + (t.internal_data, [(k, type(v)) for k, v in t.data.items()])
        for t in tasks
    ]


def shares(workflow: Any) -> list[list[bool]]:
    """Which of each task's top-level containers are its parent's own (SpiffWorkflow copies them)."""
    found = []
    for task in workflow.tasks.values():
        parent = task.parent
        if parent is not None:
            found.append([parent.data.get(k) is v for k, v in task.data.items() if isinstance(v, dict | list)])
    return found


def test_a_load_restores_what_spiffworkflow_restores(make_store: Callable[[], SqlStore], clock: FixedClock) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    saved = states(engine, clock)
    assert len(saved) >= 8
    for state, restored in saved:
        ours, theirs = load_workflow(state, restored), spiff_load(state, restored)
        assert tree(ours) == tree(theirs)
        assert shares(ours) == shares(theirs)
        assert ours.data == theirs.data and ours.last_task.id == theirs.last_task.id
        assert dump_workflow(ours) == spiff_dump(ours) == spiff_dump(theirs) == state
