"""Firing many due instances in one transaction (engine.service.firing), on SQLite and PostgreSQL.

Each timer fires exactly once, judged from the audit log, whatever happens to
the batch around it: an instance that loses its revision guard in the middle
of a batch, a row another transaction holds, a failure while stepping, and a
worker process killed while a batch is in flight.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import text

from engine.clock import FixedClock, SystemClock
from engine.ports import InstanceRecord
from engine.sandbox.scripts import Sandbox
from engine.service import firing
from engine.service.facade import Engine
from integrations.redis_wakeups import RedisWakeups
from integrations.sql import SqlStore
from integrations.sql.store import SqlUnit
from tests.conftest import FIXTURES, REDIS_URL, deploy
from tests.test_scheduler import Worker, assert_each_fired_once, fired, pending, wait_for

SHORT_TIMER = FIXTURES / "engine" / "short_timer.bpmn"  # start → PT1S timer → end
SLOW_TIMER = FIXTURES / "engine" / "slow_timer.bpmn"  # start → PT1S timer → script sum(range(rounds)) → end


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    store = SqlStore.from_url(db_url)
    store.create_schema()
    yield store
    store.close()


def timer_engine(store: SqlStore, clock: FixedClock, **options: Any) -> Engine:
    engine = Engine(store, clock, Sandbox(), **options)
    deploy(engine, SHORT_TIMER, forms_dir=None)
    return engine


def start_many(engine: Engine, count: int) -> list[str]:
    return [engine.start("short_timer", {}, actor="test").record.id for _ in range(count)]


def revision(store: SqlStore, instance_id: str) -> int:
    with store.reader() as unit:
        record = unit.get_instance(instance_id)
    assert record is not None
    return record.revision


def test_batches_fire_each_due_instance_once(store: SqlStore, clock: FixedClock) -> None:
    engine = timer_engine(store, clock, fire_batch=3)
    ids = start_many(engine, 7)
    before = {i: revision(store, i) for i in ids}
    assert engine.fire_due_timers() == 0  # nothing due yet
    clock.advance(timedelta(seconds=2))
    assert engine.fire_due_timers() == 7  # three transactions: 3 + 3 + 1
    assert engine.fire_due_timers() == 0
    assert_each_fired_once(engine, ids)
    assert all(revision(store, i) == before[i] + 1 for i in ids)  # one write each
    with store.reader() as unit:
        assert unit.due_instances(clock.now(), 100) == []


def test_a_batch_writes_what_one_by_one_firing_writes(store: SqlStore, clock: FixedClock) -> None:
    batched = timer_engine(store, clock)
    alone = start_many(batched, 3)
    together = start_many(batched, 3)
    clock.advance(timedelta(seconds=2))
    assert sum(batched.wake(i) for i in alone) == 3
    assert batched.wake_many(together) == 3

    def shape(instance_id: str) -> list[tuple[str, str | None, dict[str, Any]]]:
        return [(e.type, e.element_id, e.payload) for e in batched.events(instance_id)]

    assert all(shape(i) == shape(alone[0]) for i in alone + together)
    assert {batched.get(i).record.status for i in alone + together} == {"completed"}


class _Interfering:
    """A store whose batch units let ``meddle`` act just before the guarded updates."""

    def __init__(self, store: SqlStore, meddle: Callable[[SqlUnit], None]) -> None:
        self.store, self.meddle = store, meddle

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    @contextmanager
    def unit(self) -> Iterator[SqlUnit]:
        with self.store.unit() as unit:
            original = unit.update_instances

            def update_instances(changes: Sequence[tuple[InstanceRecord, int]]) -> set[str]:
                self.meddle(unit)
                return original(changes)

            unit.update_instances = update_instances  # type: ignore[method-assign]
            yield unit


def test_a_conflict_in_the_middle_of_a_batch_fails_only_that_instance(store: SqlStore, clock: FixedClock) -> None:
    engine = timer_engine(store, clock)
    ids = start_many(engine, 5)
    middle = ids[2]
    started_at = revision(store, middle)
    clock.advance(timedelta(seconds=2))

    def concurrent_writer(unit: SqlUnit) -> None:
        # Another writer committed a step between the batch's read and its write.
        unit.conn.execute(text("UPDATE instance SET revision = revision + 1 WHERE id = :id"), {"id": middle})

    engine.store = _Interfering(store, concurrent_writer)
    outcome = firing.fire_batch(engine.core, ids, clock.now())
    engine.store = store
    assert outcome.fired == 4
    assert outcome.alone == [middle]
    assert middle not in {instance_id for instance_id, _ in outcome.schedule}
    assert [e.type for e in engine.events(middle)].count("timer_fired") == 0  # nothing of it was written
    assert engine.wake_many(outcome.alone) == 1  # woken alone, it fires
    assert_each_fired_once(engine, ids)
    assert revision(store, middle) == started_at + 2  # the other writer's step and its own


def test_a_failure_while_stepping_rolls_the_batch_back_and_fires_each_alone(store: SqlStore, clock: FixedClock) -> None:
    engine = timer_engine(store, clock)
    ids = start_many(engine, 4)
    clock.advance(timedelta(seconds=2))
    real_load = engine.core.load
    failures = {"left": 1}

    def flaky_load(unit: Any, record: InstanceRecord) -> Any:
        if record.id == ids[1] and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("deserialization failed once")
        return real_load(unit, record)

    engine.core.load = flaky_load  # type: ignore[method-assign]
    assert engine.fire_due_timers() == 4
    assert failures["left"] == 0
    assert_each_fired_once(engine, ids)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_row_held_by_another_transaction_waits_alone_while_the_batch_commits(
    store: SqlStore, clock: FixedClock
) -> None:
    engine = timer_engine(store, clock)
    ids = start_many(engine, 5)
    held = ids[3]
    clock.advance(timedelta(seconds=2))
    result: dict[str, int] = {}
    with store.engine.connect() as other, other.begin():
        other.execute(text("SELECT id FROM instance WHERE id = :id FOR UPDATE"), {"id": held})
        worker = threading.Thread(target=lambda: result.update(fired=engine.fire_due_timers()))
        worker.start()
        wait_for(lambda: fired(store) == 4, 10, "the rest of the batch to commit")
        assert worker.is_alive()  # waiting for the held row, alone
    worker.join(timeout=10)
    assert result == {"fired": 5}
    assert_each_fired_once(engine, ids)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_worker_killed_mid_batch_leaves_each_timer_to_fire_exactly_once(
    db_url: str, store: SqlStore, redis_client: Redis, prefix: str, tmp_path: Path
) -> None:
    engine = Engine(store, SystemClock(), Sandbox(), wakeups=RedisWakeups(redis_client, key_prefix=prefix))
    deploy(engine, SLOW_TIMER, forms_dir=None)
    engine.rebuild_wakeups()
    # Each firing runs a script of some milliseconds, so a batch of 50 is in
    # flight for a good part of a second: the kill lands inside one.
    ids = [engine.start("slow_timer", {"rounds": 30000}, actor="test").record.id for _ in range(150)]
    leases = f"{prefix}:wakeups:leases"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "JIUZHU_REDIS_PREFIX": prefix,
        "JIUZHU_WAKEUP_LEASE_SECONDS": "2",
    }
    victim = Worker("victim", env, tmp_path)
    try:
        wait_for(lambda: "已启动" in victim.output(), 30, "the worker to start")
        in_batch = lambda: fired(store) > 0 and redis_client.zcard(leases) > 0  # noqa: E731
        wait_for(in_batch, 30, "a batch committed, the next in flight")
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=10)
        in_flight, done_at_kill = redis_client.zcard(leases), fired(store)
    finally:
        victim.stop()
    assert in_flight > 0, "no claims were in flight at the kill; it tested nothing"
    assert done_at_kill < 150
    replacement = Worker("replacement", env, tmp_path)
    try:
        wait_for(lambda: pending(store) == 0, 60, "every timer to fire after the restart")
    finally:
        replacement.stop()
    assert "Traceback" not in replacement.output(), replacement.output()
    assert fired(store) == 150
    assert_each_fired_once(engine, ids)
    assert redis_client.zcard(f"{prefix}:wakeups") == 0
    assert redis_client.zcard(leases) == 0


def test_a_timer_that_leads_to_start_process_fires_alone_and_starts_the_child(
    store: SqlStore, clock: FixedClock
) -> None:
    from engine.deploy.model import SourceFile
    from tests.test_connectors import CHILD, _starter

    timed = _starter("child_proc").replace(
        b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="svc" />',
        b'<bpmn:intermediateCatchEvent id="wait" name="\xe7\xad\x89\xe5\xbe\x85"><bpmn:timerEventDefinition>'
        b'<bpmn:timeDuration>"PT1S"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        b'<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait" />'
        b'<bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="svc" />',
    )
    engine = Engine(store, clock, Sandbox())
    engine.deploy([SourceFile("svc.bpmn", timed), SourceFile("child.bpmn", CHILD)], lambda *_: None, actor="d")
    parents = [engine.start("svc_proc", {"n": i}, actor="a", org_unit="qinghe.xiwan").record.id for i in range(3)]
    clock.advance(timedelta(seconds=2))
    assert engine.wake_many(parents) == 3
    children = [engine.get(p).data["child"]["instance_id"] for p in parents]
    assert [engine.get(c).data["who"] for c in children] == [0, 1, 2]
    assert all(engine.get(p).record.status == "running" and engine.get(p).incident is None for p in parents)
