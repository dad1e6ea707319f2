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
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from engine.audit import GENESIS, seal  # noqa: E402
from engine.clock import Clock, FixedClock, SystemClock  # noqa: E402
from engine.deploy.model import load_files  # noqa: E402
from engine.events import EventDraft  # noqa: E402
from engine.sandbox.scripts import Sandbox  # noqa: E402
from engine.service.facade import Engine  # noqa: E402
from integrations.redis_wakeups import RedisWakeups  # noqa: E402
from integrations.sql import SqlStore, make_engine  # noqa: E402
from integrations.sql.tables import Instance, Timer  # noqa: E402

MODEL = ROOT / "tests" / "fixtures" / "engine" / "short_timer.bpmn"
PROCESS = "short_timer"
INST = Instance.__table__  # type: ignore[attr-defined]
TIMER = Timer.__table__  # type: ignore[attr-defined]
POSTGRES_URL = os.environ.get("JIUZHU_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("JIUZHU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")  # keys under a fresh prefix

FIRE_LOG = {
    "postgresql": [
        "CREATE TABLE bench_fire (chain_id varchar(36) NOT NULL, fired_at double precision NOT NULL)",
        """CREATE FUNCTION bench_fire_log() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             INSERT INTO bench_fire VALUES (NEW.chain_id, extract(epoch FROM clock_timestamp()));
             RETURN NULL;
           END $$""",
        # Deferred: it runs when the firing transaction commits, so fired_at
        # is the commit (less the WAL flush), not the moment of the INSERT.
        """CREATE CONSTRAINT TRIGGER bench_fire_t AFTER INSERT ON audit_event
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
           WHEN (NEW.type = 'timer_fired') EXECUTE FUNCTION bench_fire_log()""",
    ],
    "sqlite": [
        "CREATE TABLE bench_fire (chain_id TEXT NOT NULL, fired_at REAL NOT NULL)",
        """CREATE TRIGGER bench_fire_t AFTER INSERT ON audit_event WHEN NEW.type = 'timer_fired'
           BEGIN INSERT INTO bench_fire VALUES (NEW.chain_id, (julianday('now') - 2440587.5) * 86400.0); END""",
    ],
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- databases ------------------------------------------------------------------------


@contextmanager
def sqlite_database(workdir: Path) -> Iterator[str]:
    path = workdir / f"timers-{uuid.uuid4().hex[:8]}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for leftover in workdir.glob(path.name + "*"):
            leftover.unlink()


@contextmanager
def postgres_database() -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def new_engine(url: str, clock: Clock, wakeups: RedisWakeups | None = None) -> tuple[SqlStore, Engine]:
    store = SqlStore.from_url(url)
    store.create_schema()
    engine = Engine(store, clock, Sandbox(), wakeups=wakeups)
    files, resolve = load_files([MODEL], None)
    engine.deploy(files, resolve, actor="bench")
    return store, engine


# -- loading ------------------------------------------------------------------------------


@dataclass
class Template:
    instance: dict[str, Any]
    timers: list[dict[str, Any]]
    drafts: list[EventDraft]
    occurred_at: datetime
    due_iso: str


def make_template(store: SqlStore, engine: Engine) -> Template:
    view = engine.start(PROCESS, {}, actor="bench")
    tid = view.record.id
    with store.reader() as unit:
        instance = dict(unit.conn.execute(select(INST).where(INST.c.id == tid)).mappings().one())
        timers = [dict(r) for r in unit.conn.execute(select(TIMER).where(TIMER.c.instance_id == tid)).mappings()]
        for table in SQLModel.metadata.sorted_tables:
            if "instance_id" in table.c and table.name != TIMER.name:
                rows = unit.conn.execute(select(table).where(table.c.instance_id == tid)).all()
                if rows:
                    raise SystemExit(f"the template has rows in {table.name}; this bench does not clone them")
        events = list(unit.events(tid))
    armed = [e for e in events if e.type == "timer_armed"]
    if len(armed) != 1 or len(timers) != 1:
        raise SystemExit("the template should wait on exactly one timer")
    due_iso = armed[0].payload["due_at"]
    if instance["state"].count(due_iso) != 1:
        raise SystemExit("the template's due time does not appear exactly once in its state")
    drafts = []
    for e in events:
        body = json.loads(e.body)
        drafts.append(EventDraft(e.type, body["payload"], e.task_id, e.element_id, e.actor))
    engine.terminate(tid, "benchmark template", actor="bench")  # it must not fire with the clones
    return Template(instance, timers, drafts, events[0].occurred_at, due_iso)


def load_clones(store: SqlStore, template: Template, dues: list[datetime], chunk: int = 2000) -> dict[str, float]:
    """Bulk-insert one clone per due time; returns clone id → due (epoch seconds)."""
    out: dict[str, float] = {}
    payloads = [json.dumps(d.payload, ensure_ascii=False) for d in template.drafts]
    for start in range(0, len(dues), chunk):
        instances, timers, events = [], [], []
        for due in dues[start : start + chunk]:
            iid = str(uuid.uuid4())
            due_iso = due.isoformat()
            drafts = [
                EventDraft(d.type, json.loads(p.replace(template.due_iso, due_iso)), d.task_id, d.element_id, d.actor)
                for d, p in zip(template.drafts, payloads, strict=True)
            ]
            sealed = seal(iid, drafts, after_seq=0, prev_hash=GENESIS, at=template.occurred_at)
            instances.append(
                {
                    **template.instance,
                    "id": iid,
                    "state": template.instance["state"].replace(template.due_iso, due_iso),
                    "status": "running",
                    "event_count": len(sealed),
                    "head_hash": sealed[-1].hash,
                }
            )
            timers += [
                {k: v for k, v in {**t, "instance_id": iid, "due_at": due}.items() if k != "id"}
                for t in template.timers
            ]
            events += sealed
            out[iid] = due.timestamp()
        with store.unit() as unit:
            unit.conn.execute(insert(INST), instances)
            unit.conn.execute(insert(TIMER), timers)
            unit.append_events(events)
    return out


# -- workers --------------------------------------------------------------------------------


class Worker:
    def __init__(self, name: str, env: dict[str, str], workdir: Path, batch: int | None) -> None:
        self.log = workdir / f"{name}.log"
        self._sink = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jiuzhu.worker", *(["--batch", str(batch)] if batch else [])],
            cwd=ROOT,
            env=env,
            stdout=self._sink,
            stderr=subprocess.STDOUT,
        )

    def started(self) -> bool:
        if self.proc.poll() is not None:
            raise SystemExit(f"worker exited early:\n{self.log.read_text(errors='replace')}")
        return "已启动" in self.log.read_text(errors="replace")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._sink.close()
        return self.log.read_text(errors="replace")


def worker_env(url: str, redis_url: str | None, prefix: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "JIUZHU_REDIS_URL")}
    env.update({"DATABASE_URL": url, "PYTHONPATH": str(ROOT)})
    if redis_url and prefix:
        env.update({"REDIS_URL": redis_url, "JIUZHU_REDIS_PREFIX": prefix})
    return env


# -- CPU accounting (Linux /proc; empty elsewhere) ---------------------------------------------------


def cpu_by_group(worker_pids: list[int]) -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each worker, PostgreSQL and Redis process."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if pid in worker_pids:
            out[pid] = ("workers", seconds)
        elif comm.startswith("postgres"):
            out[pid] = ("postgres", seconds)
        elif comm.startswith("redis-server"):
            out[pid] = ("redis", seconds)
    return out


def cpu_spent(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds by group between two samples; a process that started in
    between counts from zero, one that ended is lost (PostgreSQL backends)."""
    totals = {"workers": 0.0, "postgres": 0.0, "redis": 0.0}
    for pid, (group, seconds) in after.items():
        totals[group] += seconds - before.get(pid, (group, 0.0))[1]
    return totals


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


# -- what one firing costs -----------------------------------------------------------------


def profile_fire_path(url: str, n: int, wakeups: RedisWakeups | None = None) -> list[str]:
    """Single-threaded, in-process: where the time of one firing goes."""
    from engine.runtime import run as runtime
    from engine.service import facade as service_module
    from engine.service import firing
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

    wrap(Engine, "_load", "load + deserialize workflow")
    wrap(runtime.InstanceRun, "fire_timers", "fire timer + engine steps + observe")
    wrap(runtime.InstanceRun, "dump", "serialize workflow")
    wrap(firing, "seal", "seal audit events (sha256)")
    wrap(service_module, "fire_batch", "batch transactions, all in (incl. the above)")
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
