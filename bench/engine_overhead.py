"""Engine overhead: raw SpiffWorkflow cycle vs Jiuzhu's persisted completion.

Both sides complete the same user task (``submit_application``) of the same
model (processes/sample/material_review.bpmn) with the same form data:

* baseline — SpiffWorkflow alone, the web pattern from the notes (§3 e):
  ``deserialize_json`` → complete the task + ``do_engine_steps`` →
  ``serialize_json``, with SpiffWorkflow's own serializer and default script
  engine; no database, no validation, no audit.
* jiuzhu — ``POST /api/instances/{id}/tasks/{task}/complete`` through the
  FastAPI app (in-process ASGI transport) on a SQLite file: JSON-schema
  validation, sandboxed scripts, one transaction with optimistic revision
  check, hash-chained audit events, timer and ready-task index.

Prints medians and p95 for both, and ``ratio=<jiuzhu/baseline>`` last.
Usage: python bench/engine_overhead.py [--n 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.clock import FixedClock  # noqa: E402
from engine.sandbox import Sandbox  # noqa: E402
from engine.service import Engine  # noqa: E402
from integrations.sql import SqlStore  # noqa: E402
from jiuzhu.api import create_app  # noqa: E402
from jiuzhu.settings import Settings  # noqa: E402
from jiuzhu.wiring import deploy_paths  # noqa: E402

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


def jiuzhu(n: int, workdir: Path) -> list[float]:
    url = f"sqlite:///{workdir / 'bench.db'}"
    store = SqlStore.from_url(url)
    store.create_schema()
    engine = Engine(store, FixedClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)), Sandbox())
    deploy_paths(engine, [MODEL], ROOT / "forms", actor="bench")
    client = TestClient(create_app(engine, Settings.from_env({"DATABASE_URL": url})))
    timings = []
    for _ in range(n + 20):
        view = client.post("/api/processes/material_review/instances", json={"data": {}}).json()
        task_id = view["ready_tasks"][0]["id"]
        path = f"/api/instances/{view['id']}/tasks/{task_id}/complete"
        started = time.perf_counter()
        response = client.post(path, json={"data": FORM_DATA})
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return timings[20:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    raw = baseline(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        ours = jiuzhu(args.n, Path(tmp))
    raw_ms, ours_ms = statistics.median(raw) * 1000, statistics.median(ours) * 1000
    print(f"model: {MODEL.relative_to(ROOT)}  n={args.n}")
    print(f"baseline spiffworkflow cycle: median={raw_ms:.3f} ms  p95={percentile(raw, 0.95) * 1000:.3f} ms")
    print(f"jiuzhu http+sqlite completion: median={ours_ms:.3f} ms  p95={percentile(ours, 0.95) * 1000:.3f} ms")
    print(f"ratio={ours_ms / raw_ms:.2f}")


if __name__ == "__main__":
    main()
