"""Audit throughput: verify and re-execute 1,000 finished 低保 cases.

Setup (untimed): a SQLite file; a few real 低保 cases driven through the
engine to 审核确认 (同意 and 不予确认, the demo family 周明 of 石桥村, with the
simulated 核对 centre), then cloned to ``--cases`` finished cases: each clone
gets its own instance id and its events are re-sealed on its own chain (what
the engine would have written for the same inputs), and one signed digest of
every chain head is written (an Ed25519 key made for the run).

Timed:

* verify — ``Engine.verify()``: every hash chain, then each against the signed digest;
* replay — every finished case re-run from its start in memory, every event compared
  (:mod:`engine.replay`; ``--workers`` processes share the cases);
* baseline — SpiffWorkflow alone re-running the same cases: a ``BpmnWorkflow``
  of the same (cached) spec, the same start data and form submissions, timers
  fired at the recorded moments, recorded connector answers; the engine's
  sandboxed script engine (the models' scripts need it), but no store,
  serialization, validation, SLA clocks, observation or audit. It runs in as
  many processes as the replay, with the cases read before its clock starts.

Prints ``cases_per_s=<verify and replay, cases per second>``, the baseline's
time and ``ratio=<replay time / baseline time>`` last; every phase also says
the CPU time it took (all its processes together): on a shared machine the
wall time says as much about the neighbours as about the code.
Usage: python bench/audit.py [--cases 1000] [--templates 4] [--workers <cores>]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine.audit import GENESIS, seal  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.events import EventDraft  # noqa: E402
from engine.replay import CaseRecord, Replayer, recorded_connectors  # noqa: E402
from engine.runtime import spiff_patches  # noqa: E402
from engine.sandbox.scripts import Sandbox  # noqa: E402
from engine.service.core import SpecCache  # noqa: E402
from engine.sla.desk import policy_key  # noqa: E402
from engine.sla.functions import HELPERS, SlaContext, sla_context  # noqa: E402
from engine.sla.policy import PolicyBook, load_policy  # noqa: E402
from engine.workcal.calendar import WorkCalendar  # noqa: E402
from integrations.digest_keys import Ed25519Keys  # noqa: E402
from integrations.sql import SqlStore  # noqa: E402
from integrations.sql.replay_inputs import CaseReader  # noqa: E402
from jiuzhu.wiring import anchor  # noqa: E402
from tests.conftest import START  # noqa: E402
from tests.support.decided_cases import APPROVE, decided, dibao_engine  # noqa: E402


def templates(url: str, count: int) -> list[str]:
    """Real finished 低保 cases, through the engine (each 12 days after the last)."""
    clock = FixedClock(START)
    engine = dibao_engine(SqlStore.from_url(url), clock)
    ids = []
    for _ in range(count):
        iid = decided(engine, clock, APPROVE)
        status = engine.get(iid).record.status
        assert status == "completed", f"template {iid} is {status}"
        ids.append(iid)
    engine.store.close()
    return ids


def clone(store: SqlStore, template: str, new_id: str) -> None:
    with store.unit() as unit:
        record = unit.get_instance(template)
        assert record is not None
        events, prev, sealed = list(unit.events(template)), GENESIS, []
        for e in events:
            body = e.payload
            draft = EventDraft(e.type, body, e.task_id, e.element_id, e.actor)
            [one] = seal(new_id, [draft], after_seq=e.seq - 1, prev_hash=prev, at=e.occurred_at)
            sealed.append(one)
            prev = one.hash
        unit.add_instance(replace(record, id=new_id, head_hash=prev, event_count=len(sealed)))
        unit.append_events(sealed)


def _replay_ids(url: str, ids: Sequence[str]) -> tuple[int, float]:
    """(cases 复算一致, CPU seconds) for ``ids``, in this process."""
    cpu = time.process_time()
    store = SqlStore.from_url(url)
    reader, replayer = CaseReader(store), Replayer(Sandbox(helpers=HELPERS))
    consistent = sum(1 for iid in ids if replayer.replay(reader.case(iid)).consistent)
    store.close()
    return consistent, time.process_time() - cpu


def shared(work: Callable[[Sequence[Any]], tuple[int, float]], items: Sequence[Any], workers: int) -> tuple[int, float]:
    """``work`` over ``items`` in ``workers`` forked processes: (sum of counts, sum of CPU seconds)."""
    if workers <= 1:
        return work(items)
    chunks = [items[i::workers] for i in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(work, chunks)
    return sum(n for n, _ in results), sum(cpu for _, cpu in results)


# -- the baseline: SpiffWorkflow alone ---------------------------------------------------------


def spiff_rerun(case: CaseRecord, specs: SpecCache, sandbox: Sandbox, calendar: WorkCalendar, book: PolicyBook) -> bool:
    _, restored = specs.get(case.version)
    policy = next((p for p in book.policies if policy_key(p) == case.instance.policy), None)
    script_engine = sandbox.script_engine(recorded_connectors(case.events))
    workflow = BpmnWorkflow(restored.spec, restored.subprocess_specs)
    workflow.script_engine = script_engine
    ids: dict[str, Any] = {}

    def run(now: datetime, action: Any) -> None:
        with sla_context(SlaContext(calendar, policy, case.instance.region, now)), spiff_patches.engine_time(now):
            action()
            workflow.do_engine_steps()

    for event in case.events:
        now = event.occurred_at
        if event.type == "instance_started":
            root = workflow.get_next_task(state=TaskState.READY)
            run(now, lambda root=root, data=event.payload["data"]: root.data.update(data))
        elif event.type == "task_completed":
            ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            task = next(t for t in ready if t.task_spec.name == event.element_id)
            ids[str(event.task_id)] = task

            def complete(task: Any = task, data: Any = event.payload["form_data"]) -> None:
                task.data.update(data)
                task.run()

            run(now, complete)
        elif event.type == "timer_fired":
            run(now, workflow.refresh_timers)
    return workflow.is_completed()


# Read before the baseline's clock starts (Spiff alone has no store); forked workers inherit them.
_CASES: list[CaseRecord] = []


def _spiff_cases(indexes: Sequence[int]) -> tuple[int, float]:
    """(cases SpiffWorkflow finished, CPU seconds) for ``_CASES[i]`` of ``indexes``, in this process."""
    cpu = time.process_time()
    specs, sandbox, calendar = SpecCache(8), Sandbox(helpers=HELPERS), WorkCalendar()
    book = PolicyBook(load_policy(body, source=source) for source, body in _CASES[0].policies)
    done = sum(1 for i in indexes if spiff_rerun(_CASES[i], specs, sandbox, calendar, book))
    return done, time.process_time() - cpu


def baseline(url: str, ids: list[str], workers: int) -> tuple[int, float, float]:
    """(cases finished, wall seconds, CPU seconds) of SpiffWorkflow alone."""
    store = SqlStore.from_url(url)
    reader = CaseReader(store)
    _CASES[:] = [reader.case(iid) for iid in ids]
    store.close()
    started = time.perf_counter()
    done, cpu = shared(_spiff_cases, range(len(_CASES)), workers)
    return done, time.perf_counter() - started, cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--templates", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'audit.db'}"
        store = SqlStore.from_url(url)
        store.create_schema()
        store.close()
        made = time.perf_counter()
        sources = templates(url, args.templates)
        store = SqlStore.from_url(url)
        ids = list(sources)
        for i in range(args.cases - len(sources)):
            new_id = f"bench-{i:05d}-{sources[i % len(sources)][:8]}"
            clone(store, sources[i % len(sources)], new_id)
            ids.append(new_id)
        engine = dibao_engine(store, FixedClock(START))
        anchor(engine, Ed25519Keys(Ed25519PrivateKey.generate()))
        engine.write_digest()
        print(f"setup: {len(ids)} finished 低保 cases ({len(sources)} through the engine, the rest cloned) "
              f"in {time.perf_counter() - made:.1f} s")  # fmt: skip

        started, cpu = time.perf_counter(), time.process_time()
        verdicts = engine.verify()
        verify_s, verify_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert all(v.ok for v in verdicts), [v.describe() for v in verdicts if not v.ok][:3]
        store.close()
        started = time.perf_counter()
        consistent, replay_cpu = shared(partial(_replay_ids, url), ids, args.workers)
        replay_s = time.perf_counter() - started
        assert consistent == len(ids), f"{len(ids) - consistent} cases not 复算一致"
        finished, spiff_s, spiff_cpu = baseline(url, ids, args.workers)
        assert finished == len(ids), f"SpiffWorkflow alone finished {finished} of {len(ids)}"

    total = verify_s + replay_s
    workers = f"{args.workers} worker(s)"
    print(f"verify: {len(verdicts)} chains (hash links + signed digest) in {verify_s:.2f} s ({verify_cpu:.2f} CPU s)")
    print(f"replay: {consistent}/{len(ids)} 复算一致 in {replay_s:.2f} s ({workers}, {replay_cpu:.2f} CPU s)")
    print(
        f"spiffworkflow_alone: {finished} cases re-run in {spiff_s:.2f} s ({workers}, {spiff_cpu:.2f} CPU s; "
        f"{len(ids) / spiff_s:.0f} cases/s)"
    )
    print(f"cpu: {len(ids) / (verify_cpu + replay_cpu):.0f} cases per CPU second (verify and replay)")
    print(f"cases_per_s={len(ids) / total:.0f}")
    print(f"ratio={replay_s / spiff_s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
