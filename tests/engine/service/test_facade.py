"""The persisted engine on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.errors import ConflictError, DeploymentRefused, FormValidationError, NotFoundError
from engine.service.facade import Engine
from tests.conftest import FIXTURES, SAMPLE, START, deploy

APPLICATION = {"applicant_name": "李四", "household_size": 2}


def ready(engine: Engine, instance_id: str, element_id: str) -> str:
    return next(t.id for t in engine.get(instance_id).ready if t.element_id == element_id)


def test_deploy_is_versioned_by_content(make_engine_for: Callable[..., Engine], tmp_path: Path) -> None:
    engine = make_engine_for()
    deploy(engine, SAMPLE)
    deploy(engine, SAMPLE)  # same bytes: no new version
    assert [v.version for v in engine.versions("material_review")] == [1]
    changed = tmp_path / "material_review.bpmn"
    changed.write_text(SAMPLE.read_text(encoding="utf-8").replace("两天未审查", "两日未审查"), encoding="utf-8")
    deploy(engine, changed)
    assert [v.version for v in engine.versions("material_review")] == [1, 2]


def test_running_instances_keep_their_version(make_engine_for: Callable[..., Engine], tmp_path: Path) -> None:
    engine = make_engine_for()
    deploy(engine, SAMPLE)
    old = engine.start("material_review", {}, actor="a")
    changed = tmp_path / "material_review.bpmn"
    changed.write_text(SAMPLE.read_text(encoding="utf-8").replace("登记申请", "申请登记"), encoding="utf-8")
    deploy(engine, changed)
    new = engine.start("material_review", {}, actor="a")
    assert (old.record.version, new.record.version) == (1, 2)
    assert engine.get(old.record.id).ready[0].name == "登记申请"
    assert engine.get(new.record.id).ready[0].name == "申请登记"


def test_refused_deployment_stores_nothing(make_engine_for: Callable[..., Engine], tmp_path: Path) -> None:
    engine = make_engine_for()
    bad = tmp_path / "bad.bpmn"
    bad.write_text(SAMPLE.read_text(encoding="utf-8").replace("reminder_sent = True", "import os"), encoding="utf-8")
    with pytest.raises(DeploymentRefused) as info:
        deploy(engine, bad)
    assert any(p.location.element_id == "send_reminder" for p in info.value.errors)
    assert engine.versions() == []


def test_state_survives_a_new_engine_between_steps(make_engine_for: Callable[..., Engine], clock: FixedClock) -> None:
    engine = make_engine_for()
    deploy(engine, SAMPLE)
    iid = engine.start("material_review", {}, actor="村协理员").record.id
    make_engine_for().complete_task(iid, ready(engine, iid, "submit_application"), APPLICATION, actor="村协理员")
    clock.advance(timedelta(days=2, seconds=1))
    assert make_engine_for().fire_due_timers() == 1
    assert make_engine_for().fire_due_timers() == 0
    fresh = make_engine_for()
    fresh.complete_task(iid, ready(fresh, iid, "review_materials"), {"materials_complete": True}, actor="经办人")
    fresh = make_engine_for()
    view = fresh.complete_task(iid, ready(fresh, iid, "approve"), {"approved": True}, actor="审核人")
    assert view.record.status == "completed"
    types = [e.type for e in make_engine_for().events(iid)]
    assert types.count("task_completed") == 3
    assert {"timer_armed", "timer_fired", "gateway_decided", "instance_completed"} <= set(types)
    assert all(v.ok for v in make_engine_for().verify())


def test_fire_due_timers_touches_only_due_instances(sample_engine: Engine, clock: FixedClock) -> None:
    first = sample_engine.start("material_review", {}, actor="a").record.id
    sample_engine.complete_task(first, ready(sample_engine, first, "submit_application"), APPLICATION, actor="a")
    clock.advance(timedelta(days=1))
    second = sample_engine.start("material_review", {}, actor="a").record.id
    sample_engine.complete_task(second, ready(sample_engine, second, "submit_application"), APPLICATION, actor="a")
    revision_before = sample_engine.get(second).record.revision
    clock.advance(timedelta(days=1, seconds=1))
    assert sample_engine.fire_due_timers() == 1
    assert sample_engine.get(second).record.revision == revision_before
    assert [e.type for e in sample_engine.events(first)].count("timer_fired") == 1


def test_twenty_concurrent_completions_one_winner(sample_engine: Engine) -> None:
    iid = sample_engine.start("material_review", {}, actor="a").record.id
    task_id = ready(sample_engine, iid, "submit_application")
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        barrier.wait()
        try:
            sample_engine.complete_task(
                iid, task_id, {**APPLICATION, "applicant_name": f"申请人{n:02d}"}, actor=f"u{n}"
            )
            result = "ok"
        except ConflictError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 19 + ["ok"]
    completed = [e for e in sample_engine.events(iid) if e.type == "task_completed"]
    assert len(completed) == 1
    winner = completed[0].payload["form_data"]["applicant_name"]
    assert sample_engine.get(iid).data["applicant_name"] == winner
    assert all(v.ok for v in sample_engine.verify())


def test_stale_revision_is_refused(sample_engine: Engine) -> None:
    view = sample_engine.start("material_review", {}, actor="a")
    with pytest.raises(ConflictError):
        sample_engine.complete_task(
            view.record.id, view.ready[0].id, APPLICATION, actor="a", expected_revision=view.record.revision - 1
        )


def test_invalid_form_writes_nothing(sample_engine: Engine) -> None:
    view = sample_engine.start("material_review", {}, actor="a")
    events_before = len(sample_engine.events(view.record.id))
    with pytest.raises(FormValidationError):
        sample_engine.complete_task(view.record.id, view.ready[0].id, {"household_size": "三"}, actor="a")
    after = sample_engine.get(view.record.id)
    assert after.record.revision == view.record.revision
    assert len(sample_engine.events(view.record.id)) == events_before


def test_incident_is_visible_and_retryable(make_engine_for: Callable[..., Engine]) -> None:
    engine = make_engine_for()
    deploy(engine, FIXTURES / "engine" / "failing_script.bpmn")
    view = engine.start("failing_script", {"total": 100, "members": 0}, actor="a")
    assert view.record.status == "incident"
    assert view.incident is not None and view.incident.element_id == "compute"
    fixed = make_engine_for().retry_incident(view.record.id, {"members": 4}, actor="管理员")
    assert fixed.record.status == "running" and fixed.data["share"] == 25


def test_unknown_instance_and_process(sample_engine: Engine) -> None:
    with pytest.raises(NotFoundError):
        sample_engine.get("nope")
    with pytest.raises(NotFoundError):
        sample_engine.start("nope", {}, actor="a")


def test_clock_drives_timer_due_times(sample_engine: Engine, clock: FixedClock) -> None:
    clock.set(START + timedelta(days=10))
    iid = sample_engine.start("material_review", {}, actor="a").record.id
    sample_engine.complete_task(iid, ready(sample_engine, iid, "submit_application"), APPLICATION, actor="a")
    armed = next(e for e in sample_engine.events(iid) if e.type == "timer_armed")
    assert armed.payload["due_at"] == (START + timedelta(days=12)).isoformat()


def test_two_branches_completed_at_once_both_succeed(make_engine_for: Callable[..., Engine]) -> None:
    engine = make_engine_for()
    deploy(engine, FIXTURES / "engine" / "par.bpmn")
    for _ in range(5):
        view = engine.start("par", {}, actor="a")
        tasks = {t.element_id: t.id for t in view.ready}
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def work(element: str, view=view, tasks=tasks, barrier=barrier, outcomes=outcomes) -> None:
            barrier.wait()
            try:
                engine.complete_task(view.record.id, tasks[element], {}, actor=element)
                outcomes.append("ok")
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=work, args=(e,)) for e in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes == ["ok", "ok"]
        assert engine.get(view.record.id).record.status == "completed"


START_FORM = FIXTURES / "engine" / "start_form.bpmn"


def test_start_data_is_validated_against_the_start_event_form(make_engine_for: Callable[..., Engine]) -> None:
    engine = make_engine_for()
    deploy(engine, START_FORM, forms_dir=FIXTURES / "engine")
    with pytest.raises(FormValidationError) as info:
        engine.start("start_form", {"applicant_name": "李四", "id_number": "110105194912310021"}, actor="a")
    assert info.value.location is not None
    assert (info.value.location.element_id, info.value.location.element_tag) == ("apply", "startEvent")
    assert [e.path for e in info.value.field_errors] == ["id_number"]
    with pytest.raises(FormValidationError) as unknown:
        engine.start("start_form", {"applicant_name": "李四", "id_number": "11010519491231002X", "x": 1}, actor="a")
    assert [(e.path, e.code) for e in unknown.value.field_errors] == [("x", "START_DATA_UNDECLARED")]
    assert unknown.value.code == "START_DATA_UNDECLARED"
    assert engine.list_instances() == []  # refused starts leave nothing behind
    view = engine.start("start_form", {"applicant_name": "李四", "id_number": "11010519491231002X"}, actor="a")
    assert view.data["id_number"] == "11010519491231002X"
    assert engine.events(view.record.id)[0].payload["data"]["applicant_name"] == "李四"


def test_a_missing_start_form_is_refused_at_its_start_event(
    make_engine_for: Callable[..., Engine], tmp_path: Path
) -> None:
    bad = tmp_path / "start_form.bpmn"
    bad.write_text(START_FORM.read_text(encoding="utf-8").replace("start-form-schema", "nope"), encoding="utf-8")
    with pytest.raises(DeploymentRefused) as info:
        deploy(make_engine_for(), bad, forms_dir=FIXTURES / "engine")
    assert [(p.code, p.location.element_id) for p in info.value.errors] == [("FORM_MISSING", "apply")]


def test_an_in_memory_sqlite_database_gets_its_schema_and_runs(clock: FixedClock) -> None:
    from engine.sandbox.scripts import Sandbox
    from integrations.sql.store import SqlStore

    store = SqlStore.from_url("sqlite:///:memory:")
    store.create_schema()  # one connection only: the column check must share it
    engine = Engine(store, clock, Sandbox())
    deploy(engine, SAMPLE)
    assert engine.start("material_review", {}, actor="t").record.status == "running"
