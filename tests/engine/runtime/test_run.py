"""Engine scenarios in memory, run twice: straight, and through a
save/restore round-trip after every step (as SpiffWorkflow's own tests do)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.deploy.model import load_files
from engine.errors import ConflictError, FormValidationError, InstanceStateError
from engine.events import EventDraft
from engine.runtime.run import COMPLETED, FAILED, INCIDENT, RUNNING, TERMINATED, InstanceRun
from engine.runtime.serialization import spec_from_dict
from engine.sandbox.scripts import Sandbox
from tests.conftest import FIXTURES, FORMS, SAMPLE, START

SANDBOX = Sandbox()


class Driver:
    def __init__(self, path: Path, process_id: str, roundtrip: bool) -> None:
        files, resolve = load_files([path], FORMS)
        from engine.deploy.builder import build_deployment

        deployment = build_deployment(files, sandbox=SANDBOX, resolve_form=resolve)
        self.definition = deployment.processes[process_id]
        self.restored = spec_from_dict(self.definition.spec)
        self.engine = SANDBOX.script_engine()
        self.run = InstanceRun.new(self.definition, self.restored, self.engine)
        self.roundtrip = roundtrip
        self.now = START
        self.events: list[EventDraft] = []

    def step(self, op: Callable[[InstanceRun], list[EventDraft]]) -> list[EventDraft]:
        drafts = op(self.run)
        self.events += drafts
        if self.roundtrip:
            self.run = InstanceRun.load(
                self.run.dump(),
                self.definition,
                self.restored,
                self.engine,
                status=self.run.status,
                incident=self.run.incident,
            )
        return drafts

    def start(self, data: dict[str, Any] | None = None) -> list[EventDraft]:
        return self.step(lambda r: r.start(data or {}, actor="tester", now=self.now))

    def ready(self) -> list[str]:
        return [t.element_id for t in self.run.ready_tasks()]

    def complete(self, element_id: str, data: Any) -> list[EventDraft]:
        task = next(t for t in self.run.ready_tasks() if t.element_id == element_id)
        return self.step(lambda r: r.complete_task(task.id, data, actor="tester", now=self.now))

    def later(self, delta: timedelta) -> list[EventDraft]:
        self.now += delta
        return self.step(lambda r: r.fire_timers(now=self.now))

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture(params=[False, True], ids=["straight", "save-restore"])
def roundtrip(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


APPLICATION = {"applicant_name": "张三", "household_size": 3, "members": [{"name": "张三", "relationship": "本人"}]}


def test_sample_happy_path(roundtrip: bool) -> None:
    d = Driver(SAMPLE, "material_review", roundtrip)
    d.start()
    assert d.ready() == ["submit_application"]
    d.complete("submit_application", APPLICATION)
    assert d.ready() == ["review_materials"]
    [timer] = d.run.waiting_timers()
    assert timer.element_id == "timer_remind" and timer.due_at == START + timedelta(days=2)
    d.complete("review_materials", {"materials_complete": True})
    decided = [e for e in d.events if e.type == "gateway_decided"]
    assert decided[0].element_id == "gw_complete" and decided[0].payload["taken"] == ["approve"]
    assert d.run.waiting_timers() == []  # the boundary timer left with its task
    d.complete("approve", {"approved": True, "monthly_amount": 812.5})
    assert d.run.status == COMPLETED
    assert d.run.data()["monthly_amount"] == 812.5
    assert d.types().count("task_completed") == 3
    assert d.types()[-1] == "instance_completed"


def test_sample_incomplete_materials_take_default_flow(roundtrip: bool) -> None:
    d = Driver(SAMPLE, "material_review", roundtrip)
    d.start()
    d.complete("submit_application", APPLICATION)
    d.complete("review_materials", {"materials_complete": False, "review_note": "缺户口簿"})
    assert d.run.status == COMPLETED
    decided = next(e for e in d.events if e.type == "gateway_decided")
    assert decided.payload["taken"] == ["end_rejected"]


def test_non_interrupting_timer_fires_once_at_due_time(roundtrip: bool) -> None:
    d = Driver(SAMPLE, "material_review", roundtrip)
    d.start()
    d.complete("submit_application", APPLICATION)
    assert d.later(timedelta(days=1, hours=23)) == []
    fired = d.later(timedelta(hours=1))
    assert [e.type for e in fired] == ["timer_fired", "script_run", "element_completed"]
    assert fired[1].payload["data_diff"]["added"] == {"reminder_sent": True}
    assert d.later(timedelta(days=5)) == []  # fired exactly once
    assert d.ready() == ["review_materials"]  # non-interrupting: the task stays
    d.complete("review_materials", {"materials_complete": True})
    d.complete("approve", {"approved": True})
    assert d.run.status == COMPLETED


def test_form_errors_are_field_located_and_change_nothing(roundtrip: bool) -> None:
    d = Driver(SAMPLE, "material_review", roundtrip)
    d.start()
    before = d.run.dump()
    with pytest.raises(FormValidationError) as info:
        d.complete("submit_application", {"household_size": 0})
    paths = {fe.path for fe in info.value.field_errors}
    assert paths == {"applicant_name", "household_size"}
    assert all(fe.message for fe in info.value.field_errors)
    assert d.run.dump() == before


def test_completed_task_cannot_be_completed_again(roundtrip: bool) -> None:
    d = Driver(SAMPLE, "material_review", roundtrip)
    d.start()
    task_id = d.run.ready_tasks()[0].id
    d.step(lambda r: r.complete_task(task_id, APPLICATION, actor="a", now=d.now))
    with pytest.raises(ConflictError):
        d.run.complete_task(task_id, APPLICATION, actor="b", now=d.now)


def test_history_is_not_rewritten_by_later_scripts(roundtrip: bool) -> None:
    # G1: 3.2.0 shallow-merges task data; s2 would rewrite s1's snapshot.
    d = Driver(FIXTURES / "engine" / "nested_data.bpmn", "nested_data", roundtrip)
    d.start()
    s1 = next(t for t in d.run.workflow.tasks.values() if t.task_spec.name == "s1")
    assert s1.data["order"]["customer"]["tier"] == "gold"
    assert d.run.data()["order"]["customer"]["tier"] == "silver"


def test_submitted_lists_replace_rather_than_merge(roundtrip: bool) -> None:
    # G6: add_data_from_form turned ['a','b','c'] + ['c'] into ['a'].
    d = Driver(FIXTURES / "engine" / "nested_data.bpmn", "nested_data", roundtrip)
    d.start()
    d.complete("edit_items", {"order": {"customer": {"tier": "silver"}, "items": ["c"]}})
    assert d.run.data()["order"]["items"] == ["c"]


def test_uncaught_error_end_event_is_failure_not_success(roundtrip: bool) -> None:
    d = Driver(FIXTURES / "engine" / "error_end.bpmn", "error_end", roundtrip)
    d.start()
    assert d.run.status == FAILED
    failed = next(e for e in d.events if e.type == "instance_failed")
    assert failed.payload["code"] == "E_NO_FUNDS"
    assert "instance_completed" not in d.types()


def test_failing_script_raises_incident_then_retry_resolves(roundtrip: bool) -> None:
    d = Driver(FIXTURES / "engine" / "failing_script.bpmn", "failing_script", roundtrip)
    d.start({"total": 900, "members": 0})
    assert d.run.status == INCIDENT
    incident = d.run.incident
    assert incident is not None and incident.element_id == "compute"
    assert incident.code == "SCRIPT_RUNTIME" and "计算补助" in incident.message
    with pytest.raises(InstanceStateError):
        d.run.complete_task("whatever", {}, actor="x", now=d.now)
    d.step(lambda r: r.retry({"members": 3}, actor="admin", now=d.now))
    assert d.run.status == RUNNING and d.run.incident is None
    assert d.ready() == ["confirm"]
    assert d.run.data()["share"] == 300
    assert {"incident_raised", "incident_retried", "incident_resolved"} <= set(d.types())


def test_deep_loop_stall_becomes_incident(roundtrip: bool) -> None:
    # G3: past depth 1000 SpiffWorkflow silently stops seeing READY tasks.
    d = Driver(FIXTURES / "engine" / "deep_loop.bpmn", "deep_loop", roundtrip)
    d.start({"counter": 0, "limit": 600})
    assert d.run.status == INCIDENT
    assert d.run.incident is not None and d.run.incident.code == "ENGINE_STALLED"


def test_short_loop_completes(roundtrip: bool) -> None:
    d = Driver(FIXTURES / "engine" / "deep_loop.bpmn", "deep_loop", roundtrip)
    d.start({"counter": 0, "limit": 20})
    assert d.ready() == ["done"] and d.run.data()["counter"] == 20


def test_terminate(roundtrip: bool) -> None:
    d = Driver(SAMPLE, "material_review", roundtrip)
    d.start()
    d.step(lambda r: r.terminate("重复申请", actor="admin"))
    assert d.run.status == TERMINATED and d.ready() == []
    with pytest.raises(InstanceStateError):
        d.run.terminate("again", actor="admin")


def test_naive_timer_date_from_case_data_means_beijing_time(roundtrip: bool) -> None:
    d = Driver(FIXTURES / "engine" / "naive.bpmn", "naive", roundtrip)
    d.start({"due": "2026-11-05T09:00:00"})
    [timer] = d.run.waiting_timers()
    assert timer.due_at.isoformat() == "2026-11-05T01:00:00+00:00"
    assert d.later(timedelta(days=2, hours=23, minutes=59)) == []
    fired = d.later(timedelta(minutes=1))
    assert fired[0].type == "timer_fired" and d.run.status == COMPLETED


def test_event_based_gateway_timer_is_indexed_and_fires(roundtrip: bool) -> None:
    d = Driver(FIXTURES / "engine" / "ebg.bpmn", "ebg", roundtrip)
    d.start()
    [timer] = d.run.waiting_timers()
    assert timer.due_at == START + timedelta(hours=1)
    assert "timer_armed" in d.types()
    assert d.later(timedelta(minutes=59)) == []
    fired = d.later(timedelta(minutes=1))
    assert fired[0].type == "timer_fired" and d.run.status == COMPLETED


def test_a_cycle_behind_catches_up_one_repetition_per_pass_each_audited(roundtrip: bool) -> None:
    d = Driver(FIXTURES / "engine" / "cycle.bpmn", "cycle", roundtrip)
    d.start()
    passes = [d.later(timedelta(hours=3))] + [d.later(timedelta(0)) for _ in range(3)]
    fired = [[e.payload["due_at"] for e in drafts if e.type == "timer_fired"] for drafts in passes]
    assert fired == [[(START + timedelta(hours=h)).isoformat()] for h in (1, 2, 3)] + [[]]
    [timer] = d.run.waiting_timers()
    assert timer.due_at == START + timedelta(hours=4)


def test_failed_post_script_is_not_a_completion(roundtrip: bool) -> None:
    d = Driver(FIXTURES / "engine" / "post.bpmn", "post", roundtrip)
    d.start({"divisor": 0})
    d.complete("u", {})
    assert d.run.status == INCIDENT
    assert "task_completed" not in d.types() and "task_submission_failed" in d.types()
    d.step(lambda r: r.retry({"divisor": 2}, actor="admin", now=d.now))
    assert d.ready() == ["u"] and d.types()[-2:] == ["task_ready", "incident_resolved"]
    d.complete("u", {})
    assert d.ready() == ["u2"] and d.types().count("task_completed") == 1


def test_nan_start_data_is_refused(roundtrip: bool) -> None:
    d = Driver(SAMPLE, "material_review", roundtrip)
    with pytest.raises(FormValidationError):
        d.start({"amount": float("nan")})
