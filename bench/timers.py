"""Timer firing: p99 lateness and firings per second, embedded and with Redis.

Loads ``--n`` pending timers (default 100,000), lets them fall due, and
measures how late each fired and how many fired per second:

* embedded — SQLite file, one ``python -m jiuzhu.worker`` process without
  ``REDIS_URL`` (the loop ``jiuzhu serve`` runs in a thread): the database
  timer index is the only index;
* redis — PostgreSQL (a fresh schema) and Redis (a fresh key prefix),
  ``--workers`` worker processes (default 2, one per core here) sharing
  the Redis wake-up index.

Loading. Starting 100,000 instances through the engine one by one takes
minutes, so one instance of ``tests/fixtures/engine/short_timer.bpmn``
(start → PT1S timer → end) is started through the engine as a template
(and then terminated, so it never fires), and clones are bulk-inserted: the
instance row with the timer's due time substituted in the serialized
workflow, its timer row, and its audit events re-sealed for the clone's own
chain with ``engine.audit.seal`` (so ``jiuzhu verify`` passes; a sample is
verified at the end).

Scenarios, for each mode:

* burst — every timer due at the same instant t0: a thundering herd. The
  lateness of the last one is the drain time, so this scenario measures
  throughput: ``rate = n / (last firing − t0)``.
* spread — timer i due at t0 + i / ``--rate`` (default 1,000/s, the target
  throughput): a steady offered load. This measures promptness: if the
  workers keep up, lateness is the scheduling delay; if they do not, the
  backlog and with it the lateness grows for the whole window, and p99 says so.

Lateness is measured by the database, not by the engine: a trigger on
``audit_event`` records the wall-clock time of each ``timer_fired`` row's
transaction; lateness = that − the due time. PostgreSQL: a deferred
constraint trigger, run at COMMIT (``clock_timestamp()``). SQLite has no
deferred triggers: its trigger runs at the INSERT (``julianday('now')``),
and a batch inserts its audit events as its last statement, right before
COMMIT.
(The audit event's own ``occurred_at`` is the start of the sweep that fired
it, not the firing; its p99 is printed alongside.) Exactly-once is checked
too: every clone fired once, no more.

Last line: ``p99_lateness_s=<spread p99, redis> rate_per_s=<burst rate, redis>``.

Usage: python bench/timers.py [--n 100000] [--quick] [--workers 2] [--rate 1000]
       [--modes embedded,redis] [--scenarios burst,spread]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.timer_profile import profile_fire_path  # noqa: E402
from bench.timer_setup import (  # noqa: E402
    FIRE_LOG,
    MODEL,
    REDIS_URL,
    load_clones,
    log,
    make_template,
    new_engine,
    percentile,
    postgres_database,
    sqlite_database,
)
from bench.timer_workers import Worker, cpu_by_group, cpu_spent, worker_env  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from integrations.redis_wakeups import RedisWakeups  # noqa: E402
from integrations.sql import SqlStore  # noqa: E402

# -- one run ------------------------------------------------------------------------------------


@dataclass
class Result:
    mode: str
    scenario: str
    n: int
    offered: float | None
    lateness: list[float]
    audit_lateness: list[float]
    fired: int
    duplicates: int
    rate: float
    load_s: float
    rebuild_s: float | None
    verified: int
    cpu_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        late = self.lateness
        offered = f" offered={self.offered:.0f}/s" if self.offered else ""
        return (
            f"{self.mode:8} {self.scenario:6} n={self.n}{offered}  fired={self.fired} dup={self.duplicates}  "
            f"lateness p50={percentile(late, 0.5):.3f}s p99={percentile(late, 0.99):.3f}s max={max(late):.3f}s  "
            f"(audit occurred_at p99={percentile(self.audit_lateness, 0.99):.3f}s)  rate={self.rate:.0f}/s  "
            f"[load {self.load_s:.0f}s"
            + (f", redis rebuild {self.rebuild_s:.2f}s" if self.rebuild_s is not None else "")
            + f", verified {self.verified} chains ok]"
            + (
                "\n         CPU per firing: " + ", ".join(f"{k} {v:.2f} ms" for k, v in self.cpu_ms.items())
                if self.cpu_ms
                else ""
            )
        )


def run(mode: str, scenario: str, args: argparse.Namespace, workdir: Path) -> Result:
    n = args.n
    rate = args.rate if scenario == "spread" else None
    database = sqlite_database(workdir) if mode == "embedded" else postgres_database()
    prefix = f"bench-{uuid.uuid4().hex[:10]}" if mode == "redis" else None
    redis_client = Redis.from_url(args.redis_url) if mode == "redis" else None
    with database as url:
        wakeups = RedisWakeups(redis_client, key_prefix=prefix) if redis_client and prefix else None
        store, engine = new_engine(url, SystemClock(), wakeups)
        dialect = store.engine.dialect.name
        with store.engine.begin() as conn:
            for statement in FIRE_LOG[dialect]:
                conn.exec_driver_sql(statement)
        template = make_template(store, engine)
        # Due times are sealed into each clone's audit chain, so t0 is fixed
        # before loading: far enough ahead for the load, the rebuild and the
        # workers' start-up (checked below).
        load_start = time.monotonic()
        t0 = datetime.now(UTC) + timedelta(seconds=args.margin or (15 + n * args.load_cost))
        offsets = [0.0] * n if scenario == "burst" else [i / args.rate for i in range(n)]
        dues = [t0 + timedelta(seconds=o) for o in offsets]
        log(f"{mode}/{scenario}: loading {n} timers, first due at {t0:%H:%M:%S}")
        due_by_id = load_clones(store, template, dues)
        load_s = time.monotonic() - load_start
        rebuild_s = None
        if wakeups is not None:
            started = time.perf_counter()
            engine.rebuild_wakeups()
            rebuild_s = time.perf_counter() - started
        env = worker_env(url, args.redis_url if mode == "redis" else None, prefix)
        count = args.workers if mode == "redis" else 1
        workers = [Worker(f"{mode}-{scenario}-{i}", env, workdir, args.batch) for i in range(count)]
        notes = []
        try:
            deadline = time.monotonic() + 60
            while not all(w.started() for w in workers):
                if time.monotonic() > deadline:
                    raise SystemExit("workers did not start")
                time.sleep(0.1)
            ahead = (t0 - datetime.now(UTC)).total_seconds()
            if ahead < 1:
                notes.append(f"WARNING: ready only {ahead:.1f}s before t0; rerun with a larger --margin")
            log(f"{mode}/{scenario}: loaded in {load_s:.0f}s, {count} worker(s) ready {ahead:.0f}s before t0")
            pids = [w.proc.pid for w in workers]
            cpu_before = cpu_by_group(pids)
            wait_all_fired(store, n, t0=t0, deadline_s=max(900.0, n / 20))
            cpu_ms = {k: v * 1000 / n for k, v in cpu_spent(cpu_before, cpu_by_group(pids)).items()}
            if mode == "embedded":
                cpu_ms.pop("postgres", None)
                cpu_ms.pop("redis", None)
            load1, _, _ = os.getloadavg()
            notes.append(f"load average at the end: {load1:.2f} on {os.cpu_count()} cores")
        finally:
            outputs = [w.stop() for w in workers]
        for text_out in outputs:
            if "Traceback" in text_out:
                notes.append("a worker logged a traceback:\n" + text_out[-3000:])
        with store.reader() as unit:
            fires = unit.conn.execute(text("SELECT chain_id, fired_at FROM bench_fire")).all()
            audit = unit.conn.execute(
                text("SELECT chain_id, occurred_at FROM audit_event WHERE type = 'timer_fired'")
            ).all()
        per_chain = Counter(chain for chain, _ in fires)
        duplicates = sum(c - 1 for c in per_chain.values())
        first_fire: dict[str, float] = {}
        for chain, at in fires:
            first_fire[chain] = min(at, first_fire.get(chain, at))
        lateness = [first_fire[i] - due_by_id[i] for i in due_by_id if i in first_fire]
        audit_lateness = [_epoch(at) - due_by_id[chain] for chain, at in audit if chain in due_by_id] or [float("nan")]
        if scenario == "spread" and lateness:  # in due order: does a backlog build up?
            tenth = max(1, len(lateness) // 10)
            parts = [f"{percentile(lateness[i : i + tenth], 0.99):.2f}" for i in range(0, len(lateness), tenth)]
            notes.append("p99 lateness (s) by tenth of the window: " + " ".join(parts))
        missing = n - len(lateness)
        if missing:
            notes.append(f"ERROR: {missing} timers never fired")
        t0_epoch = t0.timestamp()
        last = max(first_fire.values())
        span = last - t0_epoch if scenario == "burst" else last - min(first_fire.values())
        sample = random.sample(sorted(due_by_id), min(args.verify, n))
        verified = 0
        for chain in sample:
            verdicts = engine.verify(chain)
            if all(v.ok for v in verdicts):
                verified += 1
            else:
                notes.append("ERROR: " + "; ".join(v.describe() for v in verdicts))
        store.close()
        if redis_client is not None and prefix:
            keys = list(redis_client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                redis_client.delete(*keys)
            redis_client.close()
    return Result(
        mode,
        scenario,
        n,
        rate,
        lateness or [float("nan")],
        audit_lateness,
        len(per_chain),
        duplicates,
        len(lateness) / span if span > 0 else float("nan"),
        load_s,
        rebuild_s,
        verified,
        cpu_ms,
        notes,
    )


def _epoch(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


def wait_all_fired(store: SqlStore, n: int, *, t0: datetime, deadline_s: float) -> None:
    started = time.monotonic()
    last_count, last_change, last_report = -1, started, started
    time.sleep(max(0.0, (t0 - datetime.now(UTC)).total_seconds()))  # nothing fires before t0
    while True:
        with store.reader() as unit:
            done = int(unit.conn.execute(text("SELECT count(DISTINCT chain_id) FROM bench_fire")).scalar_one())
        now = time.monotonic()
        if done >= n:
            return
        if done != last_count:
            last_count, last_change = done, now
        if now - last_change > 120 or now - started > deadline_s:
            raise SystemExit(f"stalled: {done}/{n} fired")
        if now - last_report >= 15:
            log(f"  {done}/{n} fired")
            last_report = now
        time.sleep(1.0 if n - done > 2000 else 0.2)


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="pending timers per run")
    parser.add_argument("--quick", action="store_true", help="n=2000, spread at 500/s, smaller sample")
    parser.add_argument("--workers", type=int, default=2, help="worker processes in the redis mode")
    parser.add_argument("--rate", type=float, default=1000.0, help="offered load of the spread scenario (timers/s)")
    parser.add_argument("--batch", type=int, default=None, help="instances per fire_due_timers call (worker default)")
    parser.add_argument("--modes", default="embedded,redis")
    parser.add_argument("--scenarios", default="burst,spread")
    parser.add_argument("--margin", type=float, default=None, help="seconds from load start to t0 (default: auto)")
    parser.add_argument("--load-cost", type=float, default=0.0012, help="seconds per clone assumed for --margin auto")
    parser.add_argument("--verify", type=int, default=500, help="audit chains to verify afterwards")
    parser.add_argument("--profile", type=int, default=300, help="firings in the fire-path profile (0: skip)")
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    if args.quick:
        args.n, args.verify, args.profile = min(args.n, 2000), 100, 100
        args.rate = min(args.rate, 500.0)
    modes = [m for m in args.modes.split(",") if m]
    scenarios = [s for s in args.scenarios.split(",") if s]
    results: list[Result] = []
    profiles: list[str] = []
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-") as tmp:
        workdir = Path(tmp)
        if args.profile:
            log("profiling the fire path")
            profiles.append("sqlite:")
            profiles += profile_fire_path(f"sqlite:///{workdir / 'profile.db'}", args.profile)
            if "redis" in modes:
                client = Redis.from_url(args.redis_url)
                prefix = f"bench-{uuid.uuid4().hex[:10]}"
                with postgres_database() as url:
                    profiles.append("postgresql + redis index:")
                    profiles += profile_fire_path(url, args.profile, RedisWakeups(client, key_prefix=prefix))
                client.delete(*client.keys(f"{prefix}:*") or [f"{prefix}:none"])
                client.close()
        for mode in modes:
            for scenario in scenarios:
                results.append(run(mode, scenario, args, workdir))
                log(results[-1].line())
    print(f"timers: {MODEL.relative_to(ROOT)}  cores={os.cpu_count()}  redis workers={args.workers}")
    print(
        "lateness = commit time of the firing (PostgreSQL: deferred trigger at COMMIT; SQLite: trigger at the"
        " audit INSERT, the batch's last statement) − due time; rate = firings per second"
    )
    for result in results:
        print(result.line())
        for note in result.notes:
            print(f"  {note}")
    if profiles:
        print("fire path, single thread, in-process (where one firing's time goes):")
        print("\n".join(profiles))
    redis_results = {r.scenario: r for r in results if r.mode == "redis"} or {r.scenario: r for r in results}
    spread = redis_results.get("spread") or next(iter(redis_results.values()))
    burst = redis_results.get("burst") or spread
    print(f"p99_lateness_s={percentile(spread.lateness, 0.99):.3f} rate_per_s={burst.rate:.1f}")


if __name__ == "__main__":
    main()
