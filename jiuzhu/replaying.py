"""Re-execution at the edge: read a case from the database, replay it
(:mod:`engine.replay`) and record on the audit chain that it was replayed.

One case's replay is recorded on its own chain (``case_replayed``, with the
answer); a sweep over every finished case is one event on the system chain
(``cases_replayed``), so a nightly check does not grow every case's chain.

Bounded: a replay runs in memory in the calling thread, so a case with more
than ``max_events`` events (default :data:`engine.replay.DEFAULT_MAX_EVENTS`,
``JIUZHU_REPLAY_MAX_EVENTS``) is refused up front with ``REPLAY_TOO_LONG``
instead of holding a web worker; the command line may raise the cap.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from engine.events import EventDraft
from engine.replay import DEFAULT_MAX_EVENTS, Replayer, ReplayTooLong
from engine.replay_compare import ReplayResult
from engine.service.facade import Engine
from integrations.sql.replay_inputs import CaseReader

REPLAYED = "case_replayed"
SWEPT = "cases_replayed"
LISTED = 50  # inconsistent case ids named in a sweep's system event


def max_events() -> int:
    raw = os.environ.get("JIUZHU_REPLAY_MAX_EVENTS")
    return int(raw) if raw and raw.isdigit() else DEFAULT_MAX_EVENTS


def replayer(engine: Engine, cap: int | None = None) -> Replayer:
    return Replayer(engine.sandbox, time_limits=engine.core.time_limits, max_events=cap or max_events())


def replay_case(engine: Engine, instance_id: str, *, actor: str | None, cap: int | None = None) -> ReplayResult:
    """Replay one case and record that ``actor`` did (with the answer) on its chain."""
    result = replayer(engine, cap).replay(CaseReader(engine.store).case(instance_id))
    difference = result.first_difference
    detail: dict[str, Any] = {"consistent": result.consistent, "events": result.events}
    if difference is not None:
        detail["first_difference"] = {"seq": difference.seq, "kind": difference.kind, "field": difference.field}
    engine.record_access(instance_id, REPLAYED, actor=actor, detail=detail)
    return result


def replay_finished(
    engine: Engine,
    *,
    actor: str | None,
    cap: int | None = None,
    progress: Callable[[Iterable[str], int], Iterable[str]] = lambda ids, _n: ids,
) -> tuple[list[ReplayResult], list[str]]:
    """Replay every finished case (one reader, one replayer: calendars and
    specs are parsed once); recorded as one event on the system chain.
    Returns the results and the messages of cases refused as over the cap
    (one long case does not stop the sweep)."""
    reader = CaseReader(engine.store)
    run = replayer(engine, cap)
    ids = reader.finished()
    results, refused = [], []
    for iid in progress(ids, len(ids)):
        try:
            results.append(run.replay(reader.case(iid)))
        except ReplayTooLong as exc:
            refused.append(f"{iid}: {exc.message} [{exc.code}]")
    broken = [r.instance_id for r in results if not r.consistent]
    payload = {"cases": len(results), "consistent": len(results) - len(broken), "inconsistent": broken[:LISTED],
               "refused": len(refused)}  # fmt: skip
    engine.audit_system(EventDraft(SWEPT, payload, actor=actor))
    return results, refused
