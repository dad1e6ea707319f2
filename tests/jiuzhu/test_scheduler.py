"""The scheduler loop and ``jiuzhu worker`` processes, on real databases and a real Redis.

Worker subprocesses read the system clock, so these tests use real time with
short, bounded waits: a timer process whose only timer is ``PT1S``.
The Redis tests use logical DB 15 (``JIUZHU_TEST_REDIS_URL``) and a fresh key
prefix each; the flush test empties DB 15 with FLUSHDB, never FLUSHALL, so
other databases on a shared server are untouched.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis

from engine.clock import SystemClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from integrations.redis_wakeups import RedisWakeups
from integrations.sql import SqlStore
from jiuzhu.scheduler import Scheduler, build_wakeups, run_scheduler
from jiuzhu.settings import Settings
from tests.conftest import FIXTURES, REDIS_URL, deploy
from tests.support.scheduling import Worker, assert_each_fired_once, fired, pending, wait_for

SHORT_TIMER = FIXTURES / "engine" / "short_timer.bpmn"  # start → PT1S timer → end
DATA_TIMER = FIXTURES / "engine" / "data_timer.bpmn"  # start → timeDate from the start data → end


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    store = SqlStore.from_url(db_url)
    store.create_schema()
    yield store
    store.close()


def timer_engine(store: SqlStore, wakeups: RedisWakeups | None) -> Engine:
    engine = Engine(store, SystemClock(), Sandbox(), wakeups=wakeups)
    deploy(engine, SHORT_TIMER, forms_dir=None)
    return engine


def lateness(engine: Engine, instance_id: str) -> float:
    event = next(e for e in engine.events(instance_id) if e.type == "timer_fired")
    return (event.occurred_at - datetime.fromisoformat(event.payload["due_at"])).total_seconds()


class Loop:
    """run_scheduler in a thread, stopped and joined on exit."""

    def __init__(self, engine: Engine, **options: float) -> None:
        self.stop = threading.Event()
        options.setdefault("interval", 0.2)
        self.thread = threading.Thread(target=run_scheduler, args=(engine,), kwargs={"stop": self.stop, **options})

    def __enter__(self) -> Loop:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


# -- (a) a worker killed while timers are firing ---------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_worker_killed_mid_firing_each_timer_fires_exactly_once(
    db_url: str, store: SqlStore, redis_client: Redis, prefix: str, tmp_path: Path
) -> None:
    engine = timer_engine(store, RedisWakeups(redis_client, key_prefix=prefix, lease_seconds=2))
    # Each firing runs a script of a few milliseconds, so batched firing is
    # still under way when the victim is killed.
    deploy(engine, FIXTURES / "engine" / "slow_timer.bpmn", forms_dir=None)
    engine.rebuild_wakeups()
    ids = [engine.start("slow_timer", {"rounds": 30000}, actor="test").record.id for _ in range(200)]
    assert redis_client.zcard(f"{prefix}:wakeups") == 200
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "JIUZHU_REDIS_PREFIX": prefix,
        "JIUZHU_WAKEUP_LEASE_SECONDS": "2",
    }
    workers = [Worker("a", env, tmp_path), Worker("b", env, tmp_path)]
    try:
        wait_for(lambda: all("已启动" in w.output() for w in workers), 30, "both workers to start")
        wait_for(lambda: fired(store) >= 20, 30, "the workers to start firing")
        victim = workers[0]
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=10)
        left_at_kill = pending(store)
        workers.append(Worker("c", env, tmp_path))
        wait_for(lambda: pending(store) == 0, 45, "every timer to fire")
        wait_for(lambda: "已启动" in workers[2].output(), 15, "the replacement worker to start")
    finally:
        for worker in workers:
            worker.stop()
    logs = "\n".join(w.output() for w in workers)
    assert left_at_kill > 0, "the kill came after the work was done; it tested nothing"
    assert all("定时器工作进程已启动" in w.output() for w in workers), logs
    assert "Traceback" not in workers[1].output() + workers[2].output(), logs
    assert fired(store) == 200
    assert_each_fired_once(engine, ids)
    assert redis_client.zcard(f"{prefix}:wakeups") == 0


@pytest.mark.redis
def test_claims_of_a_dead_worker_fire_once_when_their_lease_runs_out(
    store: SqlStore, redis_client: Redis, prefix: str
) -> None:
    engine = timer_engine(store, RedisWakeups(redis_client, key_prefix=prefix, lease_seconds=1.0))
    deploy(engine, DATA_TIMER, forms_dir=None)
    engine.rebuild_wakeups()
    # Far enough ahead that no start (slow on a loaded machine) fires its own timer at once.
    due = engine.clock.now() + timedelta(seconds=3)
    ids = [engine.start("data_timer", {"due": due.isoformat()}, actor="test").record.id for _ in range(10)]
    time.sleep((due - engine.clock.now()).total_seconds() + 0.1)
    dead = RedisWakeups(redis_client, key_prefix=prefix, lease_seconds=1.0)
    assert sorted(dead.claim_due(engine.clock.now(), 100)) == sorted(ids)  # claimed, then the worker died
    with Loop(engine, interval=0.2):
        wait_for(lambda: pending(store) == 0, 15, "the stranded claims to fire")
    assert all(lateness(engine, i) >= 0.9 for i in ids)  # not before the lease ran out
    assert_each_fired_once(engine, ids)


# -- (b) Redis loses everything while timers are pending --------------------------------


@pytest.mark.redis
def test_flushed_redis_loses_no_timer(store: SqlStore, redis_client: Redis, prefix: str) -> None:
    engine = timer_engine(store, RedisWakeups(redis_client, key_prefix=prefix))
    engine.rebuild_wakeups()
    with Loop(engine, interval=0.2):
        ids = [engine.start("short_timer", {}, actor="test").record.id for _ in range(30)]
        assert redis_client.zcard(f"{prefix}:wakeups") > 0
        # FLUSHDB, not FLUSHALL: the test owns logical DB 15, not the whole server.
        redis_client.flushdb()
        assert redis_client.zcard(f"{prefix}:wakeups") == 0
        wait_for(lambda: pending(store) == 0, 20, "every timer to fire after the flush")
    assert_each_fired_once(engine, ids)
    assert redis_client.exists(f"{prefix}:wakeups:built")  # the index was rebuilt from the database


@pytest.mark.redis
def test_flush_before_workers_start_loses_no_timer(store: SqlStore, redis_client: Redis, prefix: str) -> None:
    engine = timer_engine(store, RedisWakeups(redis_client, key_prefix=prefix))
    engine.rebuild_wakeups()
    ids = [engine.start("short_timer", {}, actor="test").record.id for _ in range(20)]
    redis_client.flushdb()
    second = Engine(store, SystemClock(), Sandbox(), wakeups=RedisWakeups(redis_client, key_prefix=prefix))
    with Loop(engine), Loop(second):  # two workers racing to rebuild and fire
        wait_for(lambda: pending(store) == 0, 20, "every timer to fire")
    assert_each_fired_once(engine, ids)


# -- (c) Redis unreachable ---------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.redis
def test_unreachable_redis_fires_from_the_database(store: SqlStore, caplog: pytest.LogCaptureFixture) -> None:
    down = Redis.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_connect_timeout=0.5)
    engine = timer_engine(store, RedisWakeups(down, key_prefix="unreachable", retry_after=0.5))
    with caplog.at_level(logging.WARNING):
        ids = [engine.start("short_timer", {}, actor="test").record.id for _ in range(20)]
        with Loop(engine):
            wait_for(lambda: pending(store) == 0, 20, "every timer to fire from the database")
    assert_each_fired_once(engine, ids)
    assert "改用数据库定时器索引" in caplog.text


# -- promptness, embedded and with Redis -----------------------------------------------


@pytest.mark.parametrize("with_redis", [False, pytest.param(True, marks=pytest.mark.redis)])
def test_timers_fire_at_their_due_time_not_at_the_next_sweep(
    store: SqlStore, redis_client: Redis, prefix: str, with_redis: bool
) -> None:
    engine = timer_engine(store, RedisWakeups(redis_client, key_prefix=prefix) if with_redis else None)
    deploy(engine, DATA_TIMER, forms_dir=None)
    engine.rebuild_wakeups()
    first = engine.clock.now() + timedelta(seconds=1.5)
    dues = [(first + timedelta(seconds=0.3 * i)).isoformat() for i in range(5)]
    ids = [engine.start("data_timer", {"due": due}, actor="test").record.id for due in dues]
    with Loop(engine, interval=30.0):  # sweeping every 30 s would make them up to 30 s late
        wait_for(lambda: pending(store) == 0, 15, "every timer to fire")
    late = [lateness(engine, i) for i in ids]
    assert all(0 <= s < 0.5 for s in late), late
    assert_each_fired_once(engine, ids)


def test_a_pass_that_fails_does_not_stop_the_loop(store: SqlStore, caplog: pytest.LogCaptureFixture) -> None:
    engine = timer_engine(store, None)
    real = engine.fire_due_timers
    calls = {"n": 0}

    def flaky(now: datetime | None = None, *, limit: int = 500) -> int:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("database went away")
        return real(now, limit=limit)

    engine.fire_due_timers = flaky  # type: ignore[method-assign]
    iid = engine.start("short_timer", {}, actor="test").record.id
    with caplog.at_level(logging.WARNING, logger="jiuzhu.scheduler"), Loop(engine, interval=0.2):
        wait_for(lambda: pending(store) == 0, 15, "the timer to fire after two failed passes")
    assert "定时器扫描失败" in caplog.text
    assert_each_fired_once(engine, [iid])


def test_build_wakeups_follows_the_settings(store: SqlStore) -> None:
    embedded = Settings.from_env({"DATABASE_URL": "sqlite:///:memory:"})
    assert build_wakeups(embedded) is None
    scaled = Settings.from_env({"DATABASE_URL": "sqlite:///:memory:", "REDIS_URL": REDIS_URL})
    index = build_wakeups(
        scaled, store=store, environ={"JIUZHU_REDIS_PREFIX": "p1", "JIUZHU_WAKEUP_LEASE_SECONDS": "7"}
    )
    assert isinstance(index, RedisWakeups)
    assert (index.key, index.lease_seconds) == ("p1:wakeups", 7.0)
    assert index.fallback is not None
    engine = Engine(store, SystemClock(), Sandbox(), wakeups=build_wakeups(scaled, environ={}))
    scheduler = Scheduler(engine, interval=1.0)
    assert scheduler.index is engine.wakeups
    assert scheduler.index is not None and scheduler.index.fallback is not None  # the loop supplies the database
