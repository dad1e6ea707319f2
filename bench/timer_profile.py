"""What one timer firing costs, single-threaded and in-process: each step
of the fire path is timed by wrapping it (``bench/timers.py --profile``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.timer_setup import PROCESS, new_engine
from engine.clock import FixedClock
from integrations.redis_wakeups import RedisWakeups


def profile_fire_path(url: str, n: int, wakeups: RedisWakeups | None = None) -> list[str]:
    """Single-threaded, in-process: where the time of one firing goes."""
    from engine.runtime import run as runtime
    from engine.service import firing, stepping
    from engine.service.core import Core
    from integrations.sql import store as sql_store

    clock = FixedClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    store, engine = new_engine(url, clock, wakeups)
    engine.rebuild_wakeups()
    for _ in range(n):
        engine.start(PROCESS, {}, actor="bench")
    clock.advance(timedelta(seconds=2))
    spent: dict[str, float] = {}
    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*a: Any, **k: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - began

        patched.append((owner, name, original))
        setattr(owner, name, timed)

    wrap(Core, "load", "load + deserialize workflow")
    wrap(runtime.InstanceRun, "fire_timers", "fire timer + engine steps + observe")
    wrap(runtime.InstanceRun, "dump", "serialize workflow")
    wrap(stepping, "seal", "seal audit events (sha256)")
    wrap(firing, "fire_batch", "batch transactions, all in (incl. the above)")
    wrap(sql_store.SqlUnit, "lock_instances", "SQL: select + lock the batch's rows")
    wrap(sql_store.SqlUnit, "update_instances", "SQL: revision-guarded updates")
    wrap(sql_store.SqlUnit, "append_events", "SQL: insert audit events")
    wrap(sql_store.SqlUnit, "replace_timers_of", "SQL: replace timer rows")
    if wakeups is not None:
        wrap(RedisWakeups, "claim_due", "Redis: claim_due (per batch)")
        wrap(RedisWakeups, "schedule_many", "Redis: schedule_many after commit")
    try:
        began = time.perf_counter()
        fired = engine.fire_due_timers(limit=n + 10)
        total = time.perf_counter() - began
    finally:
        for owner, name, original in patched:
            setattr(owner, name, original)
        store.close()
    lines = [f"  one firing: {total / fired * 1000:.2f} ms ({fired} fired in one thread)"]
    for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        lines.append(f"    {label:40} {seconds / fired * 1000:6.2f} ms")
    return lines
