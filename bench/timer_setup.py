"""Setting up a timer benchmark (``bench/timers.py``): a fresh database,
an engine with the one-timer model deployed, and bulk-loaded clones of one
template instance, each with its own due time and re-sealed audit chain."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlmodel import SQLModel

from engine.audit import GENESIS, seal
from engine.clock import Clock
from engine.deploy.model import load_files
from engine.events import EventDraft
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from integrations.redis_wakeups import RedisWakeups
from integrations.sql import SqlStore, make_engine
from integrations.sql.tables import Instance, Timer

ROOT = Path(__file__).resolve().parent.parent
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
