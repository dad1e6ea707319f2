"""Inbox latency with 1,000,000 open tasks across 500 org units on PostgreSQL.

Fills a dedicated schema with one county, 50 townships and 9 villages each
(500 units) and a million ready tasks spread over them (lanes, claims and
deadlines mixed), then measures, for a township 经办人:

* the inbox query itself (``SqlInbox.query``: first page and counts per state),
* the whole first inbox page over HTTP (a real uvicorn server, session cookie,
  template render).

It prints both p50/p95, and as its last line ``p95_ms=<x>`` for the first
page over HTTP. The schema is dropped afterwards.

    .venv/bin/python bench/inbox.py [--tasks 1000000] [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.ports import InboxQuery, OrgUnit, User
from integrations.sql import SqlStore, make_engine
from jiuzhu.accounts import hash_password
from jiuzhu.api import create_app
from jiuzhu.settings import Settings
from jiuzhu.web.auth import viewer_for
from jiuzhu.wiring import build_web_context
from tests.support.browser_support import serving

POSTGRES_URL = os.environ.get("JIUZHU_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
TOWNSHIPS, VILLAGES = 50, 9  # 1 county + 50 + 450 = 501 codes; the county itself holds no tasks
LANES = ("乡镇(街道)经办人", "村(社区)协理员", "乡镇审核人", "县级民政局")
PASSWORD = "bench-password"


@contextmanager
def schema() -> Iterator[str]:
    name = f"bench_inbox_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def units() -> list[OrgUnit]:
    out = [OrgUnit("bench", "基准县", "county")]
    for t in range(TOWNSHIPS):
        town = f"bench.t{t:02d}"
        out.append(OrgUnit(town, f"第{t}镇", "township", "bench"))
        out += [OrgUnit(f"{town}.v{v}", f"第{t}镇{v}村", "village", town) for v in range(VILLAGES)]
    return out


def fill(store: SqlStore, tasks: int) -> float:
    """A million rows in one INSERT … SELECT generate_series."""
    started = time.perf_counter()
    leaf = [u.code for u in units() if u.kind != "county"]
    lanes = ",".join(f"'{lane}'" for lane in LANES)
    codes = ",".join(f"'{code}'" for code in leaf)
    with store.engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        conn.execute(
            text(f"""
            INSERT INTO ready_task (id, instance_id, process_id, element_id, name, lane, ready_at, assignee,
                org_unit, business_key, applicant_name, id_masked, id_suffix, partner, stage, due_at, warn_at,
                paused, provisional)
            SELECT md5(i::text), md5('i' || i::text), 'dibao', 'accept_review', '受理审查',
                (ARRAY[{lanes}])[1 + floor(r.lane * 4)::int],
                :now - floor(r.age * 1000) * interval '1 hour',
                CASE WHEN r.claimed < 0.1 THEN 'u' || (i % 97) END,
                (ARRAY[{codes}])[1 + floor(r.unit * {len(leaf)})::int],
                'DB-' || i, '申请人' || (i % 5000), '3301**********' || lpad((i % 10000)::text, 4, '0'),
                lpad((i % 10000)::text, 4, '0'), NULL, '审核确认总时限',
                :now + (floor(r.due * 60) - 10) * interval '1 day', :now + (floor(r.due * 60) - 15) * interval '1 day',
                r.claimed > 0.98, r.claimed between 0.5 and 0.52
            FROM generate_series(1, :n) AS i,
                LATERAL (SELECT random() AS lane, random() AS age, random() AS claimed, random() AS unit,
                                random() AS due, i AS k) AS r
            """),
            {"now": NOW, "n": tasks},
        )
        conn.execute(text("ANALYZE ready_task"))
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    with schema() as url:
        store = SqlStore.from_url(url)
        store.create_schema()
        engine = Engine(store, FixedClock(NOW), Sandbox(helpers=HELPERS))
        settings = Settings.from_env({"DATABASE_URL": url, "JIUZHU_SECRET_KEY": "b" * 32, "JIUZHU_API_TOKEN": "t"})
        context = build_web_context(engine, settings)
        context.accounts.save_org_units(units())
        user = User("jb_bench", "基准经办人", ("township_handler",), "bench.t07", hash_password(PASSWORD))
        context.accounts.save_users([user])
        seconds = fill(store, args.tasks)
        print(f"filled {args.tasks} tasks across {len(units()) - 1} org units in {seconds:.1f} s")

        viewer = viewer_for(user, context.directory())
        query = InboxQuery(me=user.username, now=NOW, lanes=viewer.lanes, scope=viewer.scope)
        first = context.inbox.query(query)
        print(f"township user sees {first.total} tasks ({len(viewer.scope or ())} org units); counts {first.counts}")
        samples = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            context.inbox.query(query)
            samples.append((time.perf_counter() - t0) * 1000)
        p50, p95 = percentiles(samples)
        print(f"inbox query (first page + counts): p50={p50:.1f} ms p95={p95:.1f} ms")

        app = create_app(engine, settings, web_context=context)
        with serving(app) as base, httpx.Client(base_url=base) as client:
            signin = client.get("/signin").text
            token = signin.split('name="csrf_token" value="')[1].split('"')[0]
            data = {"username": user.username, "password": PASSWORD, "csrf_token": token}
            assert client.post("/signin", data=data).status_code == 303
            page_samples = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                r = client.get("/inbox")
                page_samples.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200 and "申请人" in r.text
        p50, p95 = percentiles(page_samples)
        print(f"first inbox page over HTTP (uvicorn, session, render): p50={p50:.1f} ms p95={p95:.1f} ms")
        store.close()
    print(f"p95_ms={p95:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
