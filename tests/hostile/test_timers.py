"""Hostile timers (issue 13): each file in tests/hostile/timers/ is a small,
valid-looking process with a bad timer. A literal out of range is refused at
deploy, located at the event and field; a value from case data becomes a
located incident on the timer when it arms; a cycle behind fires one
repetition per sweep; and other writers on the same database carry on.

Work is bounded without timing anything: SpiffWorkflow's month loop
(``monthrange``, once per month of a duration) is given a budget that a
10-year timer stays far inside and that ``P99999999Y`` would exhaust at once,
so a regression fails here instead of hanging.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer

from engine.clock import FixedClock
from engine.deploy.builder import build_deployment
from engine.deploy.model import SourceFile
from engine.errors import DeploymentRefused
from engine.runtime.run import COMPLETED, INCIDENT, RUNNING
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from engine.timebounds import TimeLimits
from integrations.sql import SqlStore
from tests.conftest import FIXTURES, START, deploy

TIMERS = Path(__file__).resolve().parent / "timers"
MONTH_BUDGET = 1000  # months SpiffWorkflow may walk in one test; P10Y is 120

# file → (element, field) of the refused literal
REFUSED = {
    "huge_duration.bpmn": ("wait", "timeDuration"),
    "duration_8500y.bpmn": ("wait", "timeDuration"),
    "huge_duration_quoted.bpmn": ("wait", "timeDuration"),
    "far_date.bpmn": ("wait", "timeDate"),
    "ancient_date.bpmn": ("wait", "timeDate"),
    "cycle_storm.bpmn": ("remind", "timeCycle"),
    "cycle_millis.bpmn": ("remind", "timeCycle"),
    "cycle_unbounded_zero.bpmn": ("remind", "timeCycle"),
    "cycle_huge_interval.bpmn": ("remind", "timeCycle"),
}

# (file, start data, element, code)
DATA_DRIVEN: list[tuple[str, dict[str, Any], str, str]] = [
    ("data_duration.bpmn", {"wait": "P99999999Y"}, "wait", "TIMER_OUT_OF_RANGE"),
    ("data_duration.bpmn", {"wait": "P8500Y"}, "wait", "TIMER_OUT_OF_RANGE"),
    ("data_duration.bpmn", {"wait": "P" + "9" * 5000 + "Y"}, "wait", "TIMER_INVALID"),
    ("data_duration.bpmn", {"wait": "不久以后"}, "wait", "TIMER_INVALID"),
    ("data_duration.bpmn", {"wait": 5}, "wait", "TIMER_INVALID"),
    ("data_date.bpmn", {"when": "9999-01-01T00:00:00Z"}, "wait", "TIMER_OUT_OF_RANGE"),
    ("data_date.bpmn", {"when": "2026-02-30T00:00:00Z"}, "wait", "TIMER_INVALID"),
    ("data_cycle.bpmn", {"every": "R99999/PT0S"}, "remind", "TIMER_OUT_OF_RANGE"),
    ("data_cycle.bpmn", {"every": "R999999999/PT0.001S"}, "remind", "TIMER_OUT_OF_RANGE"),
    ("data_cycle.bpmn", {"every": "R3/P99999999Y"}, "remind", "TIMER_OUT_OF_RANGE"),
    ("data_cycle.bpmn", {"every": "R/1900-01-01T00:00:00Z/PT1M"}, "remind", "TIMER_OUT_OF_RANGE"),  # 66M behind
]


# what the concurrent attacker starts, over and over
ATTACKS = [
    ("data_duration.bpmn", {"wait": "P99999999Y"}),
    ("data_duration.bpmn", {"wait": "P8500Y"}),
    ("data_cycle.bpmn", {"every": "R99999/PT0S"}),
    ("data_cycle.bpmn", {"every": "R999999999/PT0.001S"}),
]


@pytest.fixture(autouse=True)
def month_budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Fail instead of hanging if SpiffWorkflow is ever handed an unbounded duration again."""
    walked = [0]
    original = spiff_timer.monthrange

    def counted(year: int, month: int) -> tuple[int, int]:
        walked[0] += 1
        if walked[0] > MONTH_BUDGET:
            raise AssertionError("SpiffWorkflow's month loop ran past its budget: an unbounded timer value")
        return original(year, month)

    monkeypatch.setattr(spiff_timer, "monthrange", counted)
    yield walked


def _source(name: str) -> SourceFile:
    return SourceFile(name, (TIMERS / name).read_bytes())


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_literal_out_of_range_is_refused_at_deploy_located(name: str) -> None:
    element, field = REFUSED[name]
    with pytest.raises(DeploymentRefused) as refused:
        build_deployment([_source(name)], sandbox=Sandbox(helpers=HELPERS), resolve_form=lambda *_: None)
    [problem] = refused.value.errors
    assert problem.code == "TIMER_OUT_OF_RANGE"
    assert (problem.location.file, problem.location.element_id, problem.location.field) == (name, element, field)
    assert problem.message  # Chinese, for the designer


def test_the_limits_are_the_engines_settings(make_store: Callable[[], SqlStore], clock: FixedClock) -> None:
    strict = TimeLimits(max_duration_years=1, max_repetitions=2, min_interval_seconds=3600)
    engine = Engine(make_store(), clock, Sandbox(helpers=HELPERS), time_limits=strict)
    with pytest.raises(DeploymentRefused) as refused:
        deploy(engine, TIMERS / "cycle_at_bound.bpmn", forms_dir=None)  # within the default limits
    assert [p.code for p in refused.value.errors] == ["TIMER_OUT_OF_RANGE"]
    deploy(engine, TIMERS / "data_duration.bpmn", forms_dir=None)
    view = engine.start("hostile_data_duration", {"wait": "P2Y"}, actor="tester")
    assert view.incident is not None and view.incident.code == "TIMER_OUT_OF_RANGE"
    assert engine.start("hostile_data_duration", {"wait": "P1Y"}, actor="tester").record.status == RUNNING


@pytest.fixture
def engine(make_engine_for: Callable[..., Engine]) -> Engine:
    engine = make_engine_for()
    for name in ("data_duration.bpmn", "data_date.bpmn", "data_cycle.bpmn", "cycle_at_bound.bpmn"):
        deploy(engine, TIMERS / name, forms_dir=None)
    return engine


@pytest.mark.parametrize(("name", "data", "element", "code"), DATA_DRIVEN)
def test_a_bad_value_from_case_data_is_a_located_incident(
    engine: Engine, name: str, data: dict[str, Any], element: str, code: str
) -> None:
    view = engine.start(f"hostile_{name.removesuffix('.bpmn')}", data, actor="tester")
    assert view.record.status == INCIDENT
    incident = view.incident
    assert incident is not None
    assert (incident.element_id, incident.code) == (element, code)
    assert incident.task_id and "计时器无法设定" in incident.message
    raised = [e for e in engine.events(view.record.id) if e.type == "incident_raised"]
    assert [(e.element_id, e.payload["code"]) for e in raised] == [(element, code)]
    assert engine.get(view.record.id).record.status == INCIDENT  # stored as it was answered


def test_a_retry_with_a_sane_value_arms_the_timer(engine: Engine, clock: FixedClock) -> None:
    view = engine.start("hostile_data_duration", {"wait": "P99999999Y"}, actor="tester")
    assert view.record.status == INCIDENT
    view = engine.retry_incident(view.record.id, {"wait": "PT1H"}, actor="admin")
    assert view.record.status == RUNNING and view.incident is None
    armed = [e for e in engine.events(view.record.id) if e.type == "timer_armed"]
    assert [e.payload["due_at"] for e in armed] == [(START + timedelta(hours=1)).isoformat()]
    clock.advance(timedelta(hours=1))
    assert engine.fire_due_timers() == 1
    assert engine.get(view.record.id).record.status == COMPLETED


def test_a_cycle_behind_fires_one_repetition_per_sweep(engine: Engine, clock: FixedClock) -> None:
    view = engine.start("hostile_cycle_at_bound", {}, actor="tester")
    assert view.record.status == RUNNING
    clock.advance(timedelta(minutes=30))  # 30 repetitions are due
    per_sweep = []
    for _ in range(3):
        before = sum(1 for e in engine.events(view.record.id) if e.type == "timer_fired")
        engine.fire_due_timers()
        per_sweep.append(sum(1 for e in engine.events(view.record.id) if e.type == "timer_fired") - before)
    assert per_sweep == [1, 1, 1]


def test_other_writers_carry_on_while_hostile_timers_arm_and_fire(
    engine: Engine, make_engine_for: Callable[..., Engine], clock: FixedClock
) -> None:
    writer = make_engine_for()  # another server on the same database
    deploy(writer, FIXTURES / "engine" / "cycle.bpmn", forms_dir=None)
    behind = engine.start("hostile_cycle_at_bound", {}, actor="tester").record.id
    clock.advance(timedelta(minutes=30))
    rounds = 5
    go = threading.Barrier(2)
    hostile: list[str] = []
    written: list[str] = []
    failures: list[BaseException] = []

    def attacker() -> None:
        try:
            go.wait()
            for _ in range(rounds):
                for name, data in ATTACKS:
                    view = engine.start(f"hostile_{name.removesuffix('.bpmn')}", data, actor="attacker")
                    hostile.append(view.record.status)
                engine.fire_due_timers()
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    def caseworker() -> None:
        try:
            go.wait()
            for _ in range(rounds):
                view = writer.start("cycle", {}, actor="caseworker")
                [task] = view.ready
                done = writer.complete_task(view.record.id, task.id, {}, actor="caseworker")
                written.append(done.record.status)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=attacker), threading.Thread(target=caseworker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert written == [COMPLETED] * rounds
    assert hostile == [INCIDENT] * (len(ATTACKS) * rounds)
    fired = [e for e in engine.events(behind) if e.type == "timer_fired"]
    assert 1 <= len(fired) <= rounds  # one repetition per sweep, never all 30 at once
    assert all(v.ok for v in engine.verify())
