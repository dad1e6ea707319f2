"""回退 and task assignment on the engine: audited, refused where unsafe, and
the ready-task index follows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.errors import ConflictError, InvalidRequestError
from engine.service.facade import Engine
from tests.conftest import SAMPLE, deploy

APPLICATION = {"applicant_name": "李四", "household_size": 2}


def ready(engine: Engine, instance_id: str, element_id: str) -> str:
    return next(t.id for t in engine.get(instance_id).ready if t.element_id == element_id)


def test_send_back_reopens_the_previous_user_task(make_engine_for: Callable[..., Engine]) -> None:
    engine = make_engine_for()
    deploy(engine, SAMPLE)
    iid = engine.start("material_review", {}, actor="a", org_unit="qinghe.dongcheng").record.id
    engine.complete_task(iid, ready(engine, iid, "submit_application"), APPLICATION, actor="a")
    review = ready(engine, iid, "review_materials")
    fresh = make_engine_for()  # a restarted server: the reset survives save/restore
    view = fresh.send_back(iid, review, reason="材料照片不清", actor="jb")
    assert [t.element_id for t in view.ready] == ["submit_application"]
    with fresh.store.reader() as unit:
        rows = unit.ready_tasks(iid)
    assert [r.element_id for r in rows] == ["submit_application"]
    assert rows[0].facts.org_unit == "qinghe.dongcheng"
    events = make_engine_for().events(iid)
    sent = [e for e in events if e.type == "task_sent_back"]
    assert sent[0].payload["reason"] == "材料照片不清" and sent[0].actor == "jb"
    assert sent[0].payload["to_element"] == "submit_application"
    assert make_engine_for().verify(iid)[0].ok
    again = make_engine_for()
    again.complete_task(iid, ready(again, iid, "submit_application"), APPLICATION, actor="a")
    assert [t.element_id for t in again.get(iid).ready] == ["review_materials"]


def test_send_back_refuses_the_first_task_and_needs_a_reason(sample_engine: Engine) -> None:
    iid = sample_engine.start("material_review", {}, actor="a").record.id
    first = ready(sample_engine, iid, "submit_application")
    with pytest.raises(InvalidRequestError) as refused:
        sample_engine.send_back(iid, first, reason="x", actor="jb")
    assert refused.value.code == "SEND_BACK_NOT_ALLOWED"
    with pytest.raises(InvalidRequestError) as no_reason:
        sample_engine.send_back(iid, first, reason="", actor="jb")
    assert no_reason.value.code == "SEND_BACK_REASON"


def test_claim_unclaim_reassign_are_audited_and_exclusive(sample_engine: Engine) -> None:
    iid = sample_engine.start("material_review", {}, actor="a").record.id
    task = ready(sample_engine, iid, "submit_application")
    assert sample_engine.assign_task(task, "u1", actor="u1").assignee == "u1"
    with pytest.raises(ConflictError):
        sample_engine.assign_task(task, "u2", actor="u2")
    with pytest.raises(InvalidRequestError):
        sample_engine.assign_task(task, "u2", actor="u1")
    assert sample_engine.assign_task(task, "u2", actor="u1", reason="休假").assignee == "u2"
    assert sample_engine.assign_task(task, None, actor="u2").assignee is None
    assert sample_engine.ready_task(task).assignee is None
    kinds = [
        (e.type, e.actor)
        for e in sample_engine.events(iid)
        if e.type.startswith("task_") and "claim" in e.type or e.type == "task_reassigned"
    ]
    assert kinds == [("task_claimed", "u1"), ("task_reassigned", "u1"), ("task_unclaimed", "u2")]
    sample_engine.record_access(iid, "id_number_viewed", actor="jb", detail={"field": "applicant.id_number"})
    assert sample_engine.events(iid)[-1].type == "id_number_viewed"
    assert sample_engine.verify(iid)[0].ok
