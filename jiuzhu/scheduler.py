"""The timer scheduler loop.

``jiuzhu serve`` runs it in a thread next to the API (embedded: the database
timer index is the only index); ``jiuzhu worker`` runs only this loop, and
with ``REDIS_URL`` any number of workers share one Redis wake-up index.

Each pass:

1. keeps the Redis index honest (when there is one):

   * sentinel missing or naming another Redis run (FLUSHALL, restart), or an
     update failed in this process → ``engine.rebuild_wakeups()`` at once;
   * every ``reconcile_every`` seconds one worker of the cluster sweeps the
     database for instances overdue by more than ``grace`` seconds that the
     index lacks (an update lost to a Redis error or to an out-of-order
     reschedule) and puts them back; instances a live worker is firing (a
     live lease) are left alone, so the sweep never causes double work;
   * every ``rebuild_every`` seconds one worker of the cluster rebuilds the
     whole index from the database.

   A worker killed between claim and commit needs none of this: its claims
   are leases and come back when they run out.
2. drains: ``engine.fire_due_timers(limit=batch)`` until a call returns fewer
   than ``batch``.
3. sleeps until the next wake-up in the index or ``interval``, whichever is
   sooner, so due timers fire promptly rather than at the next sweep.

With a digest key configured, the first pass of each Beijing day (by the
engine's clock) also signs a digest of every audit chain head
(:mod:`engine.digest`) unless the archive already has one for that day.

Firing is idempotent (``Engine.wake``: a revision-guarded transaction that
finds nothing due the second time), so at-least-once delivery from here gives
exactly-once effect in the database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from redis import Redis

from engine.digest import BEIJING
from engine.ports import Store
from engine.service.facade import Engine
from integrations.redis_wakeups import Fallback, RedisWakeups
from jiuzhu.settings import Settings

log = logging.getLogger("jiuzhu.scheduler")

# Instances per fire_due_timers call. With the Redis index a call claims
# (leases) them, so a killed worker strands up to this many until the lease
# runs out; 50 is one batch transaction (Engine.fire_batch) and twice the
# throughput of 20 on two cores (bench/timers.py). The database due list costs
# a query over every due row per call, so amortize it.
DEFAULT_BATCH = 50
DATABASE_BATCH = 500
DEFAULT_GRACE = 2.0
DEFAULT_REBUILD_EVERY = 300.0
SWEEP_LIMIT = 1000
PREFIX_ENV = "JIUZHU_REDIS_PREFIX"
LEASE_ENV = "JIUZHU_WAKEUP_LEASE_SECONDS"


def redis_prefix(environ: Mapping[str, str] | None = None) -> str:
    """``JIUZHU_REDIS_PREFIX`` (default ``jiuzhu``): every Redis key and channel of this deployment starts with it."""
    env = os.environ if environ is None else environ
    return env.get(PREFIX_ENV) or "jiuzhu"


def database_due(store: Store) -> Fallback:
    """The database's own due list: what the index falls back to."""

    def due(now: datetime, limit: int) -> list[str]:
        with store.reader() as unit:
            return unit.due_instances(now, limit)

    return due


def build_wakeups(
    settings: Settings, *, store: Store | None = None, environ: Mapping[str, str] | None = None
) -> RedisWakeups | None:
    """The Redis wake-up index when ``REDIS_URL`` is set, else None (embedded).

    ``JIUZHU_REDIS_PREFIX`` (default ``jiuzhu``) namespaces the keys;
    ``JIUZHU_WAKEUP_LEASE_SECONDS`` (default 30) is how long a claimed
    instance stays with its worker before another may take it."""
    if not settings.redis_url:
        return None
    env = os.environ if environ is None else environ
    client = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)
    return RedisWakeups(
        client,
        key_prefix=redis_prefix(env),
        lease_seconds=float(env.get(LEASE_ENV) or 30.0),
        fallback=database_due(store) if store is not None else None,
    )


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        *,
        interval: float,
        reconcile_every: float = 5.0,
        batch: int | None = None,
        grace: float = DEFAULT_GRACE,
        rebuild_every: float = DEFAULT_REBUILD_EVERY,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.reconcile_every = reconcile_every
        self.grace = grace
        self.rebuild_every = rebuild_every
        self.index = engine.wakeups if isinstance(engine.wakeups, RedisWakeups) else None
        self.batch = batch or (DEFAULT_BATCH if engine.wakeups is not None else DATABASE_BATCH)
        if self.index is not None and self.index.fallback is None:
            self.index.fallback = database_due(engine.store)
        started = time.monotonic()
        self._next_check = started
        self._next_sweep = started
        self._next_rebuild = started + rebuild_every
        self._last_error = ""
        self._last_error_at = 0.0
        self.fired = 0  # firings by this loop, for operators and tests
        self.digest_day: date | None = None  # the Beijing day a chain-head digest is known to exist for

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            delay = self.step(stop)
            if delay > 0:
                stop.wait(delay)

    def step(self, stop: threading.Event | None = None) -> float:
        """One pass; returns how long to sleep before the next."""
        started = self.engine.clock.now()
        try:
            self._maintain()
        except Exception as exc:  # upkeep failing must not stop firing
            self._report(exc)
        try:
            self._daily_digest()
        except Exception as exc:  # a digest failing must not stop firing
            self._report(exc)
        try:
            fired = self._drain(stop)
            return self._delay(started, fired)
        except Exception as exc:  # keep the loop alive; the next pass retries
            self._report(exc)
            return self.interval

    # -- the Redis index ------------------------------------------------------------

    def _maintain(self) -> None:
        index = self.index
        if index is None or not index.available:
            return
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + min(1.0, self.interval)
            if index.needs_rebuild():
                self._rebuild("唤醒索引缺失或已过期（Redis 清空、重启或写入失败）")
        if now >= self._next_rebuild:
            self._next_rebuild = now + self.rebuild_every
            if index.try_lock("periodic-rebuild", self.rebuild_every * 0.9):
                self._rebuild("定期核对")
        if now >= self._next_sweep:
            self._next_sweep = now + self.reconcile_every
            if index.try_lock("sweep", self.reconcile_every * 0.9):
                self._sweep(index)

    def _rebuild(self, reason: str) -> None:
        index = self.index
        assert index is not None
        if not index.try_lock("rebuild", 120.0):
            return  # another worker is rebuilding right now
        try:
            started = time.perf_counter()
            count = self.engine.rebuild_wakeups()
            if not index.available:
                return  # Redis failed mid-way (logged); the next check tries again
            log.warning(
                "%s：已按数据库重建唤醒索引，%d 个实例，用时 %.2f 秒", reason, count, time.perf_counter() - started
            )
        finally:
            index.unlock("rebuild")

    def _sweep(self, index: RedisWakeups) -> None:
        now = self.engine.clock.now()
        cutoff = now - timedelta(seconds=self.grace)
        earliest = index.next_due()
        if earliest is not None and earliest < cutoff:
            # The workers are behind: what the database calls overdue is still
            # queued in the index. Sweep once they have caught up.
            return
        with self.engine.store.reader() as unit:
            overdue = unit.due_instances(cutoff, SWEEP_LIMIT)
        restored = index.restore([(instance_id, cutoff) for instance_id in overdue], now)
        if restored:
            log.warning("唤醒索引缺少 %d 个已到期实例（超过 %.1f 秒），已按数据库补回", restored, self.grace)

    # -- the daily signed digest of chain heads --------------------------------------

    def _daily_digest(self) -> None:
        """Once per Beijing day (by the engine's clock), when a digest key is
        configured: sign every chain head. The archive is asked once per day per
        process, so a restart or a second worker does not write a second one."""
        anchors = self.engine.anchors
        if anchors is None:
            return
        today = self.engine.clock.now().astimezone(BEIJING).date()
        if self.digest_day == today:
            return
        latest = anchors.archive.latest()
        if latest is None or latest.day != today.isoformat():
            digest = self.engine.write_digest()
            log.info("已写入审计链头签名摘要：%d 条链，根 %s", len(digest.leaves), digest.root)
        self.digest_day = today

    # -- firing -----------------------------------------------------------------------

    def _drain(self, stop: threading.Event | None) -> int:
        total = 0
        while True:
            fired = self.engine.fire_due_timers(limit=self.batch)
            total += fired
            self.fired += fired
            if fired < self.batch or (stop is not None and stop.is_set()):
                return total

    def _delay(self, started: datetime, fired: int) -> float:
        upcoming = self._next_due()
        if upcoming is None:
            return self.interval
        wait = (upcoming - self.engine.clock.now()).total_seconds()
        if wait > 0:
            return min(self.interval, wait)
        if fired or upcoming > started:
            return 0.0  # more came due while this pass ran
        # Due since before the pass, yet nothing fired: the instance cannot
        # progress (an incident) or another worker holds it. Do not spin.
        return self.interval

    def _next_due(self) -> datetime | None:
        index = self.index
        if index is not None and index.available:
            upcoming = index.next_due()
            if index.available:
                return upcoming
        with self.engine.store.reader() as unit:
            return unit.next_due()

    def _report(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        now = time.monotonic()
        if text != self._last_error or now - self._last_error_at > 60:
            log.exception("定时器扫描失败，%.1f 秒后重试", self.interval)
            self._last_error, self._last_error_at = text, now
        else:
            log.warning("定时器扫描仍失败：%s", text)


def run_scheduler(
    engine: Engine,
    *,
    interval: float,
    stop: threading.Event,
    reconcile_every: float = 5.0,
    batch: int | None = None,
    grace: float = DEFAULT_GRACE,
    rebuild_every: float = DEFAULT_REBUILD_EVERY,
) -> None:
    """Fire due timers until ``stop`` is set. Never raises: every failure is
    logged and the next pass retries."""
    Scheduler(
        engine,
        interval=interval,
        reconcile_every=reconcile_every,
        batch=batch,
        grace=grace,
        rebuild_every=rebuild_every,
    ).run(stop)
