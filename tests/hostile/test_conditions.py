"""Hostile corpus, issue 13 part 4: conditions and expressions cannot write.

Each file in ``tests/hostile/conditions/`` is one attack (or, for
``script_change.bpmn``, the one legitimate way to change data). A write an
expression shows is refused at deploy, located at the flow that carries it; a
write it hides from the deploy check is refused when it runs (a located
incident) and changes nothing; a script task's change is a diff in the audit chain; an object repr never
becomes case data. Runs on SQLite and PostgreSQL (``db_url``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import DeploymentRefused
from engine.service.facade import Engine
from tests.conftest import deploy

CORPUS = Path(__file__).resolve().parent / "conditions"
START_DATA = {"items": ["户口簿"], "cfg": {"approved": False, "level": 1}}

Engines = Callable[..., Engine]


def deployed(make_engine_for: Engines, name: str) -> Engine:
    engine = make_engine_for()
    deploy(engine, CORPUS / name, forms_dir=None)
    return engine


def started(make_engine_for: Engines, name: str, process_id: str) -> tuple[Engine, str]:
    engine = deployed(make_engine_for, name)
    return engine, engine.start(process_id, copy.deepcopy(START_DATA), actor="tester").record.id


def every_data(engine: Engine, instance_id: str) -> list[dict[str, Any]]:
    """The instance's data and each ready task's, read back from the database by a fresh load."""
    view = engine.get(instance_id)
    return [view.data, *(engine.task_data(instance_id, task.id) for task in view.ready)]


@pytest.mark.parametrize(
    ("name", "method"),
    [("append_condition.bpmn", "append"), ("update_condition.bpmn", "update")],
)
def test_a_condition_that_visibly_writes_is_refused_at_deploy(make_engine_for: Engines, name: str, method: str) -> None:
    with pytest.raises(DeploymentRefused) as refused:
        deployed(make_engine_for, name)
    [problem] = refused.value.problems()
    assert problem.code == "EXPRESSION_WRITES"
    assert problem.location.file == name and problem.location.element_id == "f_yes"
    assert f"调用了 {method}" in problem.message
    condition = (CORPUS / name).read_text(encoding="utf-8").split("<bpmn:conditionExpression>")[1]
    shown = condition.split("</bpmn:conditionExpression>")[0].replace("&gt;", ">")
    assert f"顺序流条件「{shown}」" in problem.message  # the condition itself, as the designer wrote it


@pytest.mark.parametrize(
    ("name", "process_id", "element_id"),
    [
        ("dynamic_condition.bpmn", "hostile_dynamic", "gw"),
        ("dynamic_cardinality.bpmn", "hostile_cardinality", "opinions"),
    ],
)
def test_an_expression_whose_write_deploy_cannot_see_leaves_the_data_unchanged(
    make_engine_for: Engines, name: str, process_id: str, element_id: str
) -> None:
    engine, iid = started(make_engine_for, name, process_id)  # deploys: the method name is computed
    view = engine.get(iid)
    incident = view.incident
    assert view.record.status == "incident" and incident is not None
    assert incident.code == "EXPRESSION_WRITES" and incident.element_id == element_id
    assert "调用了 append" in incident.message
    for data in every_data(make_engine_for(), iid):  # read back by a fresh engine
        assert data == START_DATA
    assert not any("data_diff" in e.payload for e in engine.events(iid))
    assert engine.verify(iid)[0].ok


def test_a_script_task_change_is_a_diff_in_the_chain(make_engine_for: Engines) -> None:
    engine, iid = started(make_engine_for, "script_change.bpmn", "hostile_script")
    view = engine.get(iid)
    assert view.data["items"] == ["户口簿", "审核通过"] and view.data["cfg"]["approved"] is True
    [run] = [e for e in engine.events(iid) if e.type == "script_run"]
    assert run.element_id == "compute"
    assert run.payload["data_diff"] == {
        "added": {},
        "changed": {
            "items": {"old": ["户口簿"], "new": ["户口簿", "审核通过"]},
            "cfg": {"old": {"approved": False, "level": 1}, "new": {"approved": True, "level": 1}},
        },
        "removed": [],
    }
    assert engine.verify(iid)[0].ok


def test_pre_and_post_script_changes_are_diffs_in_the_chain(make_engine_for: Engines) -> None:
    engine, iid = started(make_engine_for, "pre_post_scripts.bpmn", "hostile_pre_post")
    [review] = engine.get(iid).ready
    engine.complete_task(iid, review.id, {}, actor="tester")
    events = engine.events(iid)
    [ready] = [e for e in events if e.type == "task_ready" and e.element_id == "review"]
    assert ready.payload["script_diff"] == {
        "added": {},
        "changed": {"items": {"old": ["户口簿"], "new": ["户口簿", "预审"]}},
        "removed": [],
    }
    [completed] = [e for e in events if e.type == "task_completed" and e.element_id == "review"]
    assert completed.payload["data_diff"] == {"added": {}, "changed": {}, "removed": []}  # the form added nothing
    assert completed.payload["script_diff"] == {
        "added": {"checked": 2},
        "changed": {"cfg": {"old": {"approved": False, "level": 1}, "new": {"approved": True, "level": 1}}},
        "removed": [],
    }
    [confirm] = [e for e in events if e.type == "task_ready" and e.element_id == "confirm"]
    assert "script_diff" not in confirm.payload  # no script, nothing to say
    assert engine.verify(iid)[0].ok


def test_a_script_that_stores_an_object_repr_is_an_incident(make_engine_for: Engines) -> None:
    engine, iid = started(make_engine_for, "repr_script.bpmn", "hostile_repr")
    view = engine.get(iid)
    incident = view.incident
    assert view.record.status == "incident" and incident is not None
    assert incident.code == "SCRIPT_FORBIDDEN" and incident.element_id == "compute"
    assert "不能把函数转成文本" in incident.message
    for data in every_data(make_engine_for(), iid):
        assert "note" not in data and "0x" not in repr(data)
    assert engine.verify(iid)[0].ok
