"""Engine overhead: raw SpiffWorkflow cycle vs Jiuzhu's persisted completion.

Both sides complete the same user task (``submit_application``) of the same
model (processes/sample/material_review.bpmn) with the same form data:

* baseline — SpiffWorkflow alone, the web pattern from the notes (§3 e):
  ``deserialize_json`` → complete the task + ``do_engine_steps`` →
  ``serialize_json``, with SpiffWorkflow's own serializer and default script
  engine; no database, no validation, no audit.
* jiuzhu — ``POST /api/instances/{id}/tasks/{task}/complete`` over HTTP
  (keep-alive) to ``jiuzhu serve`` in its own process on a SQLite file: JSON-schema
  validation, sandboxed scripts, one transaction with optimistic revision
  check, hash-chained audit events, timer and ready-task index.

Prints medians and p95 for both, and ``ratio=<jiuzhu/baseline>`` last.
Usage: python bench/engine_overhead.py [--n 300]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def baseline(n: int) -> list[float]:
    from engine.spiff_patches import engine_time  # the timer needs a clock either way

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(MODEL))
    spec = parser.get_spec("material_review")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    with engine_time(now):
        workflow = BpmnWorkflow(spec, parser.get_subprocess_specs("material_review"))
        workflow.do_engine_steps()
    blob = serializer.serialize_json(workflow)
    timings = []
    for _ in range(n + 20):
        started = time.perf_counter()
        with engine_time(now):
            wf = serializer.deserialize_json(blob)
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            task.data.update(FORM_DATA)
            task.run()
            wf.do_engine_steps()
            serializer.serialize_json(wf)
        timings.append(time.perf_counter() - started)
    return timings[20:]


def jiuzhu(n: int, workdir: Path) -> tuple[list[float], list[float]]:
    """Completion timings, and round trips of an endpoint that does no work
    (the HTTP/framework floor, for reading the ratio)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "JIUZHU_API_TOKEN": "bench"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jiuzhu.cli", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": "Bearer bench"}
    try:
        with httpx.Client(base_url=base, headers=headers) as client:
            wait_until_up(client)
            timings = []
            for _ in range(n + 20):
                view = client.post("/api/processes/material_review/instances", json={"data": {}}).json()
                task_id = view["ready_tasks"][0]["id"]
                path = f"/api/instances/{view['id']}/tasks/{task_id}/complete"
                started = time.perf_counter()
                response = client.post(path, json={"data": FORM_DATA})
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
            floor = []
            for _ in range(n + 20):
                started = time.perf_counter()
                client.get("/healthz")
                floor.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return timings[20:], floor[20:]


def engine_only(n: int, workdir: Path) -> list[float]:
    """The same completion through ``Engine.complete_task`` in-process: no HTTP."""
    from engine.clock import FixedClock
    from engine.sandbox import Sandbox
    from engine.service import Engine
    from integrations.sql import SqlStore
    from jiuzhu.wiring import deploy_paths

    store = SqlStore.from_url(f"sqlite:///{workdir / 'engine.db'}")
    store.create_schema()
    engine = Engine(store, FixedClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)), Sandbox())
    deploy_paths(engine, [MODEL], ROOT / "forms", actor="bench")
    timings = []
    for _ in range(n + 20):
        view = engine.start("material_review", {}, actor=None)
        started = time.perf_counter()
        engine.complete_task(view.record.id, view.ready[0].id, FORM_DATA, actor=None)
        timings.append(time.perf_counter() - started)
    store.close()
    return timings[20:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.get("/api/processes").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    raw = baseline(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        ours, floor = jiuzhu(args.n, Path(tmp))
        core = engine_only(args.n, Path(tmp))
    raw_ms, ours_ms = statistics.median(raw) * 1000, statistics.median(ours) * 1000
    floor_ms, core_ms = statistics.median(floor) * 1000, statistics.median(core) * 1000
    print(f"model: {MODEL.relative_to(ROOT)}  n={args.n}")
    print(f"baseline spiffworkflow cycle:    median={raw_ms:.3f} ms  p95={percentile(raw, 0.95) * 1000:.3f} ms")
    print(f"jiuzhu engine only (sqlite):     median={core_ms:.3f} ms  p95={percentile(core, 0.95) * 1000:.3f} ms")
    print(f"http floor (GET /healthz):       median={floor_ms:.3f} ms")
    print(f"jiuzhu http+sqlite completion:   median={ours_ms:.3f} ms  p95={percentile(ours, 0.95) * 1000:.3f} ms")
    print(f"engine_only_ratio={core_ms / raw_ms:.2f}")
    print(f"ratio={ours_ms / raw_ms:.2f}")


if __name__ == "__main__":
    main()
