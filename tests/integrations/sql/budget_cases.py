"""No transaction holds the database for long: a runaway unit is stopped and rolled back, other writers write."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from integrations.sql.budget import DbBudget, TransactionTimeout
from integrations.sql.store import SqlUnit
from tests.conftest import FIXTURES, deploy

BUDGET = DbBudget(transaction_seconds=0.5, busy_seconds=60, idle_in_transaction_seconds=60)


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    store = SqlStore.from_url(db_url, BUDGET)
    store.create_schema()
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER)"))
    yield store
    store.close()


def slow_statement(dialect: str) -> str:
    if dialect == "postgresql":
        return "SELECT pg_sleep(600)"
    return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def probes(store: SqlStore) -> list[int]:
    with store.engine.connect() as conn:
        return [n for (n,) in conn.execute(text("SELECT n FROM probe ORDER BY n"))]


def runaway_and_writer(store: SqlStore, body: Callable[[SqlUnit], object]) -> BaseException | None:
    """Run `body` in a unit (after writing 1), and meanwhile write 2 in another unit; the body's exception."""
    began, caught = threading.Event(), []

    def runaway() -> None:
        try:
            with store.unit() as unit:
                unit.conn.execute(text("INSERT INTO probe VALUES (1)"))
                began.set()
                body(unit)
        except BaseException as exc:  # handed to the test
            caught.append(exc)
        finally:
            began.set()

    thread = threading.Thread(target=runaway)
    thread.start()
    began.wait()
    with store.unit() as unit:  # queues behind the runaway on SQLite; never fails "database is locked"
        unit.conn.execute(text("INSERT INTO probe VALUES (2)"))
    thread.join()
    return caught[0] if caught else None


def test_a_slow_statement_is_stopped_and_another_writer_writes(store: SqlStore) -> None:
    statement = text(slow_statement(store.engine.dialect.name))
    caught = runaway_and_writer(store, lambda unit: unit.conn.execute(statement))
    assert isinstance(caught, TransactionTimeout), caught
    assert caught.code == "TRANSACTION_TIMEOUT" and "0.5 秒" in caught.message
    assert probes(store) == [2]  # the runaway's write was rolled back


def test_a_python_loop_inside_a_transaction_is_interrupted(store: SqlStore) -> None:
    def spin(_unit: SqlUnit) -> None:
        n = 0
        while n >= 0:
            n += 1

    caught = runaway_and_writer(store, spin)
    assert isinstance(caught, TransactionTimeout)
    assert probes(store) == [2]


def test_a_unit_within_budget_commits_and_the_watchdog_lets_go(store: SqlStore) -> None:
    for n in range(3):
        with store.unit() as unit:
            unit.conn.execute(text(f"INSERT INTO probe VALUES ({n})"))
    assert probes(store) == [0, 1, 2]


def test_postgres_connections_carry_the_server_side_timeouts(store: SqlStore) -> None:
    if store.engine.dialect.name != "postgresql":
        assert BUDGET.postgres_options() == ("-c statement_timeout=500 -c idle_in_transaction_session_timeout=60000")
        return
    with store.engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "500ms"
        assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "1min"


def test_a_runaway_step_is_refused_and_other_instances_start(db_url: str, clock: FixedClock, tmp_path: Path) -> None:
    """A script that loops within a generous sandbox budget: the transaction budget ends the step."""
    model = tmp_path / "failing_script.bpmn"
    source = (FIXTURES / "engine" / "failing_script.bpmn").read_text(encoding="utf-8")
    model.write_text(source.replace("share = total / members", "n = 0\nwhile n &gt;= 0:\n    n = n + 1"), "utf-8")
    store = SqlStore.from_url(db_url, BUDGET)
    store.create_schema()
    engine = Engine(store, clock, Sandbox(helpers=HELPERS, cpu_seconds=600))
    try:
        deploy(engine, model)
        deploy(engine, FIXTURES / "engine" / "nested_data.bpmn")
        outcome: list[BaseException] = []

        def start() -> None:
            try:
                engine.start("failing_script", {}, actor="a")
            except BaseException as exc:  # handed to the test
                outcome.append(exc)

        thread = threading.Thread(target=start)
        thread.start()
        other = engine.start("nested_data", {}, actor="b")
        thread.join()
        assert len(outcome) == 1 and isinstance(outcome[0], TransactionTimeout), outcome
        assert other.record.status in ("running", "completed")
        assert [i.process_id for i in engine.list_instances()] == ["nested_data"]  # nothing of the runaway was kept
    finally:
        store.close()


def test_shutting_down_rolls_back_the_transactions_in_flight(store: SqlStore) -> None:
    from engine.sandbox.interrupt import WATCHDOG

    def stopped_at_shutdown(_unit: SqlUnit) -> None:
        WATCHDOG.interrupt_all()  # what SIGTERM does (jiuzhu/shutdown.py::stop_in_flight)
        n = 0
        while n >= 0:
            n += 1

    caught = runaway_and_writer(store, stopped_at_shutdown)
    assert isinstance(caught, TransactionTimeout) and caught.code == "SHUTTING_DOWN"
    assert probes(store) == [2]


LOOP_AFTER_TIMER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="https://jiuzhu.example/tests">
  <bpmn:process id="loop_after_timer" name="定时后死循环" isExecutable="true">
    <bpmn:startEvent id="start" name="开始"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="等待">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_timer">
        <bpmn:timeDuration>"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="spin" name="计算"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>n = 0
while n &gt;= 0:
    n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end" name="结束"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="spin"/>
    <bpmn:sequenceFlow id="f3" sourceRef="spin" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_timer_firing_over_budget_becomes_an_incident_instead_of_running_over_every_sweep(
    db_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    model = tmp_path / "loop_after_timer.bpmn"
    model.write_text(LOOP_AFTER_TIMER, encoding="utf-8")
    store = SqlStore.from_url(db_url, BUDGET)
    store.create_schema()
    engine = Engine(store, clock, Sandbox(helpers=HELPERS, cpu_seconds=600))
    try:
        deploy(engine, model)
        iid = engine.start("loop_after_timer", {}, actor="a").record.id
        clock.advance(timedelta(hours=2))
        engine.fire_due_timers()
        view = engine.get(iid)
        assert view.record.status == "incident" and view.incident is not None
        assert view.incident.code == "TRANSACTION_TIMEOUT" and "定时器触发时运行超时" in view.incident.message
        assert engine.fire_due_timers() == 0  # parked: the next sweep does not run it again
        assert engine.verify(iid)[0].ok
    finally:
        store.close()


def test_under_a_tracer_the_watchdog_only_cancels_and_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Traced (coverage, a debugger), no interrupt is delivered: the guard fires, the work ends on its own."""
    from engine.sandbox import interrupt

    watchdog = interrupt.Watchdog(poll=0.01)
    cancelled = threading.Event()
    monkeypatch.setattr(interrupt, "_traced", lambda: True)
    guard = watchdog.guard(lambda: True, cancelled.set)
    assert cancelled.wait(5)
    for _ in range(200_000):  # bytecode enough for a delivered interrupt to land
        pass
    assert watchdog.release(guard) and guard.reason == "budget"

    monkeypatch.setattr(interrupt, "_traced", lambda: False)
    guard = watchdog.guard(lambda: True)
    with pytest.raises(interrupt.Interrupted):
        while True:
            pass
    assert watchdog.release(guard)
