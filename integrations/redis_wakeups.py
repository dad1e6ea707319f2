"""The wake-up index in Redis, shared by several worker processes.

Keys (``P`` is the key prefix, ``jiuzhu`` by default):

``P:wakeups``          ZSET  instance id -> epoch seconds of its next wake-up
``P:wakeups:leases``   ZSET  instance id -> epoch seconds its claim expires
``P:wakeups:built``    STRING  sentinel: the Redis ``run_id`` the index was built on

The database is the truth; this index only answers "which instances are due
now" quickly and hands each to exactly one worker. Claiming is one Lua script
(ZRANGEBYSCORE … LIMIT, then ZREM and a lease), so of any number of
concurrent callers exactly one receives a given member. The lease, not a
plain removal, is what makes a worker killed between claim and commit
harmless: its members come back by themselves when the lease runs out
(``lease_seconds``), and in the meantime no rebuild or sweep hands them to
a second worker. A finished wake-up always ends in :meth:`schedule`, which
drops the lease.

Redis may lose everything at any moment (FLUSHALL, a restart without
persistence, a restart from an older snapshot). A missing sentinel or one
naming another ``run_id`` makes :meth:`needs_rebuild` true, and the scheduler
then refills the index from the database. Every Redis error is logged and
degrades to the database path: :meth:`claim_due` answers from ``fallback``
(the database's due list) while Redis is unreachable, :meth:`schedule` drops
the update (the database still has it) and marks the index for a rebuild.
Nothing here raises a Redis error to the engine.

Multi-key scripts: in Redis Cluster all keys must share a hash slot; use a
prefix with a hash tag, e.g. ``{jiuzhu}``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger("jiuzhu.wakeups")

Fallback = Callable[[datetime, int], list[str]]

# KEYS: wakeups, leases. ARGV: now, limit, lease_until.
# Expired leases first (their worker died or is stuck: they are overdue), then
# the earliest due members; every member returned is leased until lease_until.
_CLAIM = """
local now, limit, lease_until = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out, seen = {}, {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
for _, m in ipairs(expired) do
  out[#out + 1] = m
  seen[m] = true
  redis.call('ZADD', KEYS[2], lease_until, m)
  redis.call('ZREM', KEYS[1], m)
end
if #out < limit then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit - #out)
  for _, m in ipairs(due) do
    redis.call('ZREM', KEYS[1], m)
    if not seen[m] then
      out[#out + 1] = m
      redis.call('ZADD', KEYS[2], lease_until, m)
    end
  end
end
return out
"""

# KEYS: temp, wakeups, leases, sentinel. ARGV: sentinel value, entry count.
# A temporary key short of the entries written means Redis lost data while
# it was built (a flush mid-rebuild): give up, leave the sentinel alone.
# Members under a lease stay out of the new index: a live worker reschedules
# them when it commits; a dead worker's lease runs out and claim_due hands
# them on from the lease set itself.
_FINISH_REBUILD = """
if redis.call('ZCARD', KEYS[1]) ~= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return -1
end
local leased = redis.call('ZRANGE', KEYS[3], 0, -1)
for i = 1, #leased, 1000 do
  redis.call('ZREM', KEYS[1], unpack(leased, i, math.min(i + 999, #leased)))
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('PERSIST', KEYS[2])
else
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[4], ARGV[1])
return redis.call('ZCARD', KEYS[2])
"""

# KEYS: wakeups, leases. ARGV: now, then member, score pairs.
# Puts back members the database says are due but the index lacks (or holds
# later), unless a live lease says some worker is firing them right now.
_RESTORE = """
local changed = 0
for i = 2, #ARGV, 2 do
  local m, score = ARGV[i], ARGV[i + 1]
  local lease = redis.call('ZSCORE', KEYS[2], m)
  if not lease or tonumber(lease) <= tonumber(ARGV[1]) then
    changed = changed + redis.call('ZADD', KEYS[1], 'LT', 'CH', score, m)
  end
end
return changed
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _score(moment: datetime) -> float:
    return moment.timestamp()


def _moment(score: float) -> datetime:
    return datetime.fromtimestamp(score, UTC)


class RedisWakeups:
    """:class:`engine.ports.WakeupIndex` on a Redis sorted set."""

    def __init__(
        self,
        redis_client: Redis,
        *,
        key_prefix: str = "jiuzhu",
        lease_seconds: float = 30.0,
        fallback: Fallback | None = None,
        retry_after: float = 2.0,
        chunk: int = 5000,
    ) -> None:
        self.redis = redis_client
        self.key = f"{key_prefix}:wakeups"
        self.leases_key = f"{self.key}:leases"
        self.sentinel_key = f"{self.key}:built"
        self.lock_prefix = f"{self.key}:lock:"
        self.lease_seconds = lease_seconds
        self.fallback = fallback
        self.retry_after = retry_after
        self.chunk = chunk
        self._claim = redis_client.register_script(_CLAIM)
        self._finish = redis_client.register_script(_FINISH_REBUILD)
        self._restore = redis_client.register_script(_RESTORE)
        self._unlock = redis_client.register_script(_UNLOCK)
        self._state = threading.Lock()
        self._down_until = 0.0  # monotonic; while in the future, Redis is not even tried
        self._failing = False
        self._dirty = False  # an update may have been lost: rebuild once Redis answers
        self._token = uuid.uuid4().hex

    # -- the WakeupIndex port ------------------------------------------------

    def claim_due(self, now: datetime, limit: int) -> list[str]:
        if limit <= 0:
            return []
        if self._usable():
            try:
                score = _score(now)
                claimed = self._claim(
                    keys=[self.key, self.leases_key],
                    args=[repr(score), limit, repr(score + self.lease_seconds)],
                    client=self.redis,
                )
            except RedisError as exc:
                self._failed("claim", exc)
            else:
                self._succeeded()
                return [m.decode() if isinstance(m, bytes) else str(m) for m in claimed]
        return self._from_database(now, limit)

    def schedule(self, instance_id: str, at: datetime | None) -> None:
        if not self._usable():
            self._dirty = True  # the database has it; the index will be rebuilt
            return
        try:
            with self.redis.pipeline(transaction=True) as pipe:
                if at is None:
                    pipe.zrem(self.key, instance_id)
                else:
                    pipe.zadd(self.key, {instance_id: _score(at)})
                pipe.zrem(self.leases_key, instance_id)
                pipe.execute()
        except RedisError as exc:
            self._failed("schedule", exc)
        else:
            self._succeeded()

    def schedule_many(self, entries: Sequence[tuple[str, datetime | None]]) -> None:
        """A committed batch's wake-ups in one round trip."""
        if not entries:
            return
        if not self._usable():
            self._dirty = True
            return
        later = {instance_id: _score(at) for instance_id, at in entries if at is not None}
        done = [instance_id for instance_id, at in entries if at is None]
        try:
            with self.redis.pipeline(transaction=True) as pipe:
                if later:
                    pipe.zadd(self.key, later)
                if done:
                    pipe.zrem(self.key, *done)
                pipe.zrem(self.leases_key, *(instance_id for instance_id, _ in entries))
                pipe.execute()
        except RedisError as exc:
            self._failed("schedule", exc)
        else:
            self._succeeded()

    def rebuild(self, entries: Sequence[tuple[str, datetime]]) -> None:
        """Replace the index with ``entries`` in one atomic step: fill a
        temporary key, then RENAME it over the index and set the sentinel."""
        if not self._usable():
            return
        with self._state:
            self._dirty = False  # failures from here on call for another rebuild
        temp = f"{self.key}:tmp:{uuid.uuid4().hex}"
        earliest: dict[str, datetime] = {}
        for instance_id, at in entries:  # one wake-up per instance, the earliest
            if instance_id not in earliest or at < earliest[instance_id]:
                earliest[instance_id] = at
        entries = list(earliest.items())
        try:
            run_id = self._run_id()
            with self.redis.pipeline(transaction=False) as pipe:
                for start in range(0, len(entries), self.chunk):
                    part = entries[start : start + self.chunk]
                    pipe.zadd(temp, {instance_id: _score(at) for instance_id, at in part})
                    pipe.expire(temp, 600)  # a rebuild that dies half-way leaves nothing behind
                    if len(pipe) >= 20:
                        pipe.execute()
                pipe.execute()
            size = self._finish(
                keys=[temp, self.key, self.leases_key, self.sentinel_key],
                args=[run_id, len(entries)],
                client=self.redis,
            )
        except RedisError as exc:
            self._failed("rebuild", exc)
            try:
                self.redis.delete(temp)
            except RedisError:
                pass
            return
        self._succeeded()
        if int(size) < 0:
            with self._state:
                self._dirty = True
            log.warning("重建唤醒索引时 Redis 丢失了数据，将再次重建")
            return
        log.info("唤醒索引已按数据库重建：%d 个实例（另有 %d 个正在处理）", size, len(entries) - int(size))

    # -- what the scheduler loop uses besides the port -------------------------

    def needs_rebuild(self) -> bool:
        """True when Redis answers but the index cannot be trusted: the
        sentinel is missing (flush, restart without persistence), names
        another server run (restart from an older snapshot), or an update
        failed in this process since the last rebuild."""
        if not self._usable():
            return False
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(self.sentinel_key)
                pipe.info("server")
                sentinel, info = pipe.execute()
        except RedisError as exc:
            self._failed("sentinel check", exc)
            return False
        self._succeeded()
        built_on = sentinel.decode() if isinstance(sentinel, bytes) else sentinel
        return self._dirty or built_on != str(info.get("run_id", ""))

    def next_due(self) -> datetime | None:
        """The earliest wake-up or lease expiry in the index; None if empty
        or Redis does not answer (ask the database then)."""
        if not self._usable():
            return None
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrange(self.key, 0, 0, withscores=True)
                pipe.zrange(self.leases_key, 0, 0, withscores=True)
                first, lease = pipe.execute()
        except RedisError as exc:
            self._failed("next_due", exc)
            return None
        self._succeeded()
        scores = [float(s) for _, s in first + lease]
        return _moment(min(scores)) if scores else None

    def restore(self, entries: Sequence[tuple[str, datetime]], now: datetime) -> int:
        """Add what the database says is due and the index lacks (or holds
        later); members under a live lease are left alone. Returns how many
        entries were added or moved earlier."""
        if not entries or not self._usable():
            return 0
        changed = 0
        try:
            for start in range(0, len(entries), 500):
                args: list[Any] = [repr(_score(now))]
                for instance_id, at in entries[start : start + 500]:
                    args += [instance_id, repr(_score(at))]
                changed += int(self._restore(keys=[self.key, self.leases_key], args=args, client=self.redis))
        except RedisError as exc:
            self._failed("restore", exc)
        else:
            self._succeeded()
        return changed

    def try_lock(self, name: str, ttl: float) -> bool:
        """A cluster-wide lease so that only one worker at a time rebuilds or sweeps."""
        if not self._usable():
            return False
        try:
            got = self.redis.set(self.lock_prefix + name, self._token, nx=True, px=max(1, int(ttl * 1000)))
        except RedisError as exc:
            self._failed("lock", exc)
            return False
        self._succeeded()
        return bool(got)

    def unlock(self, name: str) -> None:
        try:
            self._unlock(keys=[self.lock_prefix + name], args=[self._token], client=self.redis)
        except RedisError as exc:
            self._failed("unlock", exc)

    @property
    def available(self) -> bool:
        """False while Redis is failing (the database path is in use)."""
        return self._usable()

    # -- degrading ---------------------------------------------------------------

    def _from_database(self, now: datetime, limit: int) -> list[str]:
        if self.fallback is None:
            return []
        return self.fallback(now, limit)

    def _run_id(self) -> str:
        return str(self.redis.info("server").get("run_id", ""))

    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, what: str, exc: RedisError) -> None:
        with self._state:
            first = not self._failing
            self._failing, self._dirty = True, True
            self._down_until = time.monotonic() + self.retry_after
        if first:
            log.warning("Redis 唤醒索引不可用（%s：%s），改用数据库定时器索引", what, exc, exc_info=exc)
        else:
            log.debug("Redis 唤醒索引仍不可用（%s：%s）", what, exc)

    def _succeeded(self) -> None:
        if self._failing:
            with self._state:
                recovered, self._failing = self._failing, False
            if recovered:
                log.warning("Redis 唤醒索引已恢复，将按数据库重建")
