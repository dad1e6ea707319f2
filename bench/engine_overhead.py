"""Engine overhead: raw SpiffWorkflow cycle vs Jiuzhu's persisted completion.

Both sides complete the same user task (``submit_application``) of the same
model (processes/sample/material_review.bpmn) with the same form data:

* baseline — SpiffWorkflow alone, the web pattern from the notes (§3 e):
  ``deserialize_json`` → complete the task + ``do_engine_steps`` →
  ``serialize_json``, with SpiffWorkflow's own serializer and default script
  engine; no database, no validation, no audit.
* jiuzhu — ``POST /api/instances/{id}/tasks/{task}/complete`` over HTTP/1.1
  (keep-alive, loopback) to ``jiuzhu serve`` (uvicorn) in its own process on
  a SQLite file: JSON-schema validation, sandboxed scripts, one transaction
  with optimistic revision check, hash-chained audit events, timer and
  ready-task index. Each completion is of a fresh instance started just
  before (untimed), so every one reads its state from the database.

Supporting figures: the same completion through ``Engine.complete_task``
in-process (no HTTP), and the HTTP floor (``GET /healthz`` on the same
server). The four are measured interleaved, one of each per round, so a
shared machine's load falls on all of them alike; the two HTTP requests
follow the untimed start request, so the server is awake for both. The client is the standard
library's ``http.client`` (``--client httpx`` for httpx, which spends about
0.4 ms of its own CPU per request here).

Prints medians and p95, the SQLite durability settings in force, and
``ratio=<jiuzhu/baseline>`` last (medians).
Usage: python bench/engine_overhead.py [--n 300] [--client stdlib|httpx]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


MODEL = ROOT / "processes" / "sample" / "material_review.bpmn"
FORM_DATA = {"applicant_name": "张三", "household_size": 3, "members": [{"name": "张三", "relationship": "本人"}]}
WARMUP = 20
TOKEN = "bench"
# The demo server knows the county: a case is opened in one of its townships.
START = {"data": {}, "org_unit": "qinghe.dongcheng"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def baseline_cycle() -> Callable[[], None]:
    from engine.runtime.spiff_patches import engine_time  # the timer needs a clock either way

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(MODEL))
    spec = parser.get_spec("material_review")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    with engine_time(now):
        workflow = BpmnWorkflow(spec, parser.get_subprocess_specs("material_review"))
        workflow.do_engine_steps()
    blob = serializer.serialize_json(workflow)

    def cycle() -> None:
        with engine_time(now):
            wf = serializer.deserialize_json(blob)
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            task.data.update(FORM_DATA)
            task.run()
            wf.do_engine_steps()
            serializer.serialize_json(wf)

    return cycle


class Client:
    """JSON over one keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int, kind: str) -> None:
        self.kind = kind
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        self.stdlib = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.httpx = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=self.headers, timeout=30)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        content = None if body is None else json.dumps(body).encode()
        if self.kind == "httpx":
            response = self.httpx.request(method, path, content=content)
            return response.status_code, response.content
        self.stdlib.request(method, path, body=content, headers=self.headers)
        reply = self.stdlib.getresponse()
        return reply.status, reply.read()

    def close(self) -> None:
        self.stdlib.close()
        self.httpx.close()


@contextmanager
def server(workdir: Path) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "JIUZHU_API_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "jiuzhu.cli", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def http_completion(client: Client) -> Callable[[], float]:
    def once() -> float:
        status, body = client.request("POST", "/api/processes/material_review/instances", START)
        assert status == 201, body
        view = json.loads(body)
        path = f"/api/instances/{view['id']}/tasks/{view['ready_tasks'][0]['id']}/complete"
        started = time.perf_counter()
        status, body = client.request("POST", path, {"data": FORM_DATA})
        elapsed = time.perf_counter() - started
        assert status == 200, body
        return elapsed

    return once


def http_floor(client: Client) -> Callable[[], float]:
    def once() -> float:
        started = time.perf_counter()
        status, _ = client.request("GET", "/healthz")
        elapsed = time.perf_counter() - started
        assert status == 200
        return elapsed

    return once


@contextmanager
def engine_completion(workdir: Path) -> Iterator[tuple[Callable[[], float], dict[str, str]]]:
    """The same completion through ``Engine.complete_task`` in-process: no HTTP."""
    from engine.clock import FixedClock
    from engine.sandbox.scripts import Sandbox
    from engine.service.facade import Engine
    from integrations.sql import SqlStore
    from jiuzhu.wiring import deploy_paths

    store = SqlStore.from_url(f"sqlite:///{workdir / 'engine.db'}")
    store.create_schema()
    engine = Engine(store, FixedClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)), Sandbox())
    deploy_paths(engine, [MODEL], ROOT / "forms", actor="bench")
    with store.engine.connect() as conn:  # what make_engine set on every connection
        pragmas = {p: str(conn.exec_driver_sql(f"PRAGMA {p}").scalar()) for p in ("journal_mode", "synchronous")}

    def once() -> float:
        view = engine.start("material_review", {}, actor=None)
        started = time.perf_counter()
        engine.complete_task(view.record.id, view.ready[0].id, FORM_DATA, actor=None)
        return time.perf_counter() - started

    try:
        yield once, pragmas
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


def timed(fn: Callable[[], None]) -> Callable[[], float]:
    def once() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return once


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--client", choices=("stdlib", "httpx"), default="stdlib")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, server(Path(tmp)) as port, engine_completion(Path(tmp)) as core:
        client = Client(port, args.client)
        engine_once, pragmas = core
        measures = {
            "baseline": timed(baseline_cycle()),
            "engine": engine_once,
            "http": http_completion(client),
            "floor": http_floor(client),
        }
        samples: dict[str, list[float]] = {name: [] for name in measures}
        for round_ in range(args.n + WARMUP):
            for name, once in measures.items():
                elapsed = once()
                if round_ >= WARMUP:
                    samples[name].append(elapsed)
        client.close()
    ms = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    p95 = {name: percentile(values, 0.95) * 1000 for name, values in samples.items()}
    print(f"model: {MODEL.relative_to(ROOT)}  n={args.n} (interleaved rounds)  client={args.client}")
    print(f"sqlite: journal_mode={pragmas['journal_mode']} synchronous={pragmas['synchronous']} (1 = NORMAL)")
    print(f"baseline spiffworkflow cycle:    median={ms['baseline']:.3f} ms  p95={p95['baseline']:.3f} ms")
    print(f"jiuzhu engine only (sqlite):     median={ms['engine']:.3f} ms  p95={p95['engine']:.3f} ms")
    print(f"http floor (GET /healthz):       median={ms['floor']:.3f} ms  p95={p95['floor']:.3f} ms")
    print(f"jiuzhu http+sqlite completion:   median={ms['http']:.3f} ms  p95={p95['http']:.3f} ms")
    print(f"engine_only_ratio={ms['engine'] / ms['baseline']:.2f}")
    print(f"ratio={ms['http'] / ms['baseline']:.2f}")


if __name__ == "__main__":
    main()
