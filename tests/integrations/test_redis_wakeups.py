"""The Redis wake-up index against a real Redis (logical DB 15, a fresh key prefix per test)."""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from redis import Redis

from integrations.redis_wakeups import RedisWakeups
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def members(client: Redis, key: str) -> dict[str, float]:
    scored = cast(list[tuple[bytes, float]], client.zrange(key, 0, -1, withscores=True))
    return {m.decode(): s for m, s in scored}


def test_claim_hands_each_due_member_to_exactly_one_caller(redis_client: Redis, prefix: str) -> None:
    due = [f"due-{i}" for i in range(3000)]
    later = [f"later-{i}" for i in range(200)]
    seed = RedisWakeups(redis_client, key_prefix=prefix)
    seed.rebuild([(m, at(-(i % 50))) for i, m in enumerate(due)] + [(m, at(60)) for m in later])
    claimed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    def worker() -> None:
        client = Redis.from_url(REDIS_URL)  # one connection each, like separate processes
        index = RedisWakeups(client, key_prefix=prefix)
        barrier.wait()
        mine: list[str] = []
        while batch := index.claim_due(NOW, 7):
            mine += batch
        with lock:
            claimed.extend(mine)
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = Counter(claimed)
    assert set(counts) == set(due)
    assert max(counts.values()) == 1
    assert set(members(redis_client, seed.key)) == set(later)
    assert redis_client.zcard(seed.leases_key) == len(due)  # each claimed member is leased, not lost


def test_claim_takes_the_earliest_due_up_to_the_limit(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix)
    for name, offset in [("c", -1), ("a", -30), ("b", -10), ("d", 0), ("e", 0.001)]:
        index.schedule(name, at(offset))
    assert index.claim_due(NOW, 2) == ["a", "b"]
    assert index.claim_due(NOW, 10) == ["c", "d"]  # due at exactly now counts; e is not due yet
    assert index.claim_due(NOW, 10) == []
    assert index.claim_due(at(1), 10) == ["e"]
    assert index.claim_due(NOW, 0) == []


def test_a_claim_is_a_lease_that_comes_back_if_nobody_reschedules(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix, lease_seconds=30)
    index.schedule("killed", at(-5))
    index.schedule("finished", at(-5))
    assert sorted(index.claim_due(NOW, 10)) == ["finished", "killed"]
    index.schedule("finished", None)  # its worker committed: nothing further
    assert index.claim_due(at(29), 10) == []  # the lease still holds
    assert index.claim_due(at(31), 10) == ["killed"]  # its worker died: another takes it
    assert index.claim_due(at(32), 10) == []  # and holds a fresh lease
    index.schedule("killed", at(3600))  # fired and rescheduled: lease dropped
    assert members(redis_client, index.key) == {"killed": at(3600).timestamp()}
    assert redis_client.zcard(index.leases_key) == 0


def test_schedule_adds_moves_and_removes(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix)
    index.schedule("a", at(10))
    index.schedule("b", at(20))
    index.schedule("a", at(30))
    assert members(redis_client, index.key) == {"a": at(30).timestamp(), "b": at(20).timestamp()}
    index.schedule("a", None)
    index.schedule("missing", None)
    assert members(redis_client, index.key) == {"b": at(20).timestamp()}
    assert index.next_due() == at(20)
    index.schedule("b", None)
    assert index.next_due() is None


def test_schedule_many_settles_a_whole_batch_in_one_go(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix)
    index.schedule_many([("a", at(0)), ("b", at(0)), ("c", at(0)), ("d", at(40))])
    assert sorted(index.claim_due(NOW, 10)) == ["a", "b", "c"]
    index.schedule_many([("a", at(30)), ("b", None)])  # c's batch has not committed yet
    assert members(redis_client, index.key) == {"a": at(30).timestamp(), "d": at(40).timestamp()}
    assert list(members(redis_client, index.leases_key)) == ["c"]
    index.schedule_many([])
    assert index.claim_due(at(35), 10) == ["c", "a"]  # c's lease ran out first, then a fell due


def test_next_due_counts_lease_expiry(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix, lease_seconds=5)
    index.schedule("a", at(0))
    index.schedule("b", at(60))
    assert index.claim_due(NOW, 1) == ["a"]
    assert index.next_due() == at(5)  # if a's worker dies, a is due again then


def test_rebuild_replaces_atomically(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix, chunk=500)
    stale = [(f"stale-{i}", at(i)) for i in range(30_000)]
    index.rebuild(stale)
    assert redis_client.zcard(index.key) == 30_000
    fresh = [(f"fresh-{i}", at(i)) for i in range(20_000)]
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        reader = Redis.from_url(REDIS_URL)
        while not done.is_set():
            seen.add(int(reader.zcard(index.key)))
        reader.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    index.rebuild(fresh)  # 40 round trips of 500 to the temporary key, then one swap
    done.set()
    watcher.join()
    assert seen <= {30_000, 20_000}  # never empty, never half-built, never a mixture
    assert set(members(redis_client, index.key)) == {m for m, _ in fresh}
    assert redis_client.ttl(index.key) == -1  # the temporary key's expiry did not come along
    assert list(redis_client.scan_iter(match=f"{index.key}:tmp:*")) == []
    index.rebuild([])
    assert not redis_client.exists(index.key)
    assert not index.needs_rebuild()


def test_rebuild_leaves_members_in_flight_to_their_worker(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix, lease_seconds=30)
    index.schedule("busy", at(-1))
    assert index.claim_due(NOW, 10) == ["busy"]
    index.rebuild([("busy", at(-1)), ("idle", at(-1))])  # the database still says both are due
    assert index.claim_due(NOW, 10) == ["idle"]  # not "busy": its worker is firing it
    index.schedule("idle", None)
    assert index.claim_due(at(31), 10) == ["busy"]  # unless that worker never comes back


def test_sentinel_says_when_the_index_must_be_rebuilt(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix)
    assert index.needs_rebuild()  # never built
    index.rebuild([("a", at(1))])
    assert not index.needs_rebuild()
    assert redis_client.get(index.sentinel_key) == redis_client.info("server")["run_id"].encode()
    redis_client.delete(index.sentinel_key)  # what FLUSHALL / a restart without persistence leaves
    assert index.needs_rebuild()
    index.rebuild([("a", at(1))])
    redis_client.set(index.sentinel_key, "an-older-run")  # a restart from an old snapshot
    assert index.needs_rebuild()


def test_restore_puts_back_what_the_index_lacks(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix, lease_seconds=30)
    index.rebuild([("present", at(-10)), ("late", at(100)), ("busy", at(-10))])
    assert index.claim_due(at(-10), 1) == ["busy"]  # "present" and "busy" tie; busy sorts first
    changed = index.restore([("lost", at(-2)), ("late", at(-2)), ("present", at(-2)), ("busy", at(-2))], NOW)
    assert changed == 2  # lost added, late moved earlier; present kept its earlier time; busy is leased
    assert members(redis_client, index.key) == {
        "present": at(-10).timestamp(),
        "late": at(-2).timestamp(),
        "lost": at(-2).timestamp(),
    }


def test_locks_are_exclusive_and_released_by_their_owner(redis_client: Redis, prefix: str) -> None:
    one = RedisWakeups(redis_client, key_prefix=prefix)
    two = RedisWakeups(redis_client, key_prefix=prefix)
    assert one.try_lock("rebuild", 10)
    assert not two.try_lock("rebuild", 10)
    two.unlock("rebuild")  # not its lock: no effect
    assert not two.try_lock("rebuild", 10)
    one.unlock("rebuild")
    assert two.try_lock("rebuild", 10)


def test_redis_errors_degrade_to_the_database(
    redis_client: Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    down = Redis.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_connect_timeout=0.5)
    asked: list[tuple[datetime, int]] = []

    def database(now: datetime, limit: int) -> list[str]:
        asked.append((now, limit))
        return ["from-db"]

    index = RedisWakeups(down, key_prefix=prefix, fallback=database, retry_after=0.0)
    with caplog.at_level(logging.WARNING, logger="jiuzhu.wakeups"):
        index.schedule("a", at(1))  # logged, not raised: the database has the timer
        assert index.claim_due(NOW, 5) == ["from-db"]
        index.rebuild([("a", at(1))])
        assert index.next_due() is None
        assert index.restore([("a", at(1))], NOW) == 0
        assert not index.try_lock("rebuild", 1)
        assert not index.needs_rebuild()  # nothing to rebuild into while Redis is away
    assert asked == [(NOW, 5)]
    assert "改用数据库定时器索引" in caplog.text
    assert caplog.text.count("改用数据库定时器索引") == 1  # one warning per outage, not one per call

    index.redis = redis_client  # Redis is back
    index.rebuild([])  # scripts are re-registered lazily on the new connection
    index.schedule("b", at(1))
    down.close()


def test_an_update_lost_while_redis_was_away_calls_for_a_rebuild(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix, retry_after=0.0)
    index.rebuild([])
    assert not index.needs_rebuild()
    healthy = index.redis
    index.redis = Redis.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_connect_timeout=0.5)
    index.schedule("a", at(1))  # lost
    index.redis = healthy
    assert index.needs_rebuild()
    index.rebuild([("a", at(1))])
    assert not index.needs_rebuild()
    assert index.claim_due(at(1), 10) == ["a"]


def test_a_flush_during_a_rebuild_does_not_mark_the_index_built(redis_client: Redis, prefix: str) -> None:
    index = RedisWakeups(redis_client, key_prefix=prefix, chunk=100)
    real_pipeline = redis_client.pipeline
    calls = {"n": 0}

    def flushing_pipeline(*args: object, **kwargs: object) -> object:
        pipe = real_pipeline(*args, **kwargs)
        real_execute = pipe.execute

        def execute(*a: object, **k: object) -> object:
            result = real_execute(*a, **k)  # type: ignore[arg-type]
            calls["n"] += 1
            if calls["n"] == 1:
                redis_client.flushdb()  # Redis loses everything half-way through the build
            return result

        pipe.execute = execute  # type: ignore[method-assign, assignment]
        return pipe

    redis_client.pipeline = flushing_pipeline  # type: ignore[method-assign, assignment]
    try:
        index.rebuild([(f"m{i}", at(i)) for i in range(5000)])
    finally:
        redis_client.pipeline = real_pipeline  # type: ignore[method-assign]
    assert not redis_client.exists(index.sentinel_key)
    assert index.needs_rebuild()
    index.rebuild([(f"m{i}", at(i)) for i in range(5000)])
    assert redis_client.zcard(index.key) == 5000
    assert not index.needs_rebuild()
