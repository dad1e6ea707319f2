"""What the 统计 page counts, from cases (pure): 办结 is a case decided (纳入,
不予确认, 终止 or 撤回, engine/decisions.py) within the period, on time when
decided within its overall limit; overdue open cases grouped by stage and
org unit. A finished stage clock is not a finished case."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from engine.decisions import OUTCOMES
from engine.sla.clocks import OVERDUE, local_date
from jiuzhu.web.case_view import Case


def on_time(case: Case) -> bool | None:
    """Decided within the overall limit; None for a procedure without one."""
    overall = case.overall
    if case.decision is None or overall is None:
        return None
    return not overall.clock.overdue and case.decision.decided_at <= overall.clock.due_at


def decided_in(cases: Sequence[Case], since: date, until: date) -> list[Case]:
    return [c for c in cases if c.decision is not None and since <= local_date(c.decision.decided_at) <= until]


def rate_rows(
    cases: Sequence[Case], org_name: Callable[[str | None], str], process_name: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Per procedure and org unit: cases decided, by outcome, and the on-time share."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for case in cases:
        assert case.decision is not None
        record = case.view.record
        key = (process_name(record.process_id), org_name(record.org_unit))
        row = grouped.setdefault(
            key, {"procedure": key[0], "org": key[1], "closed": 0, "timed": 0, "on_time": 0, "outcomes": Counter()}
        )
        row["closed"] += 1
        row["outcomes"][case.decision.outcome] += 1
        timely = on_time(case)
        if timely is not None:
            row["timed"] += 1
            row["on_time"] += int(timely)
    out = []
    for row in grouped.values():
        row["rate"] = round(100 * row["on_time"] / row["timed"], 1) if row["timed"] else None
        row["outcomes"] = [(o, row["outcomes"][o]) for o in OUTCOMES if row["outcomes"][o]]
        out.append(row)
    return sorted(out, key=lambda r: (r["procedure"], r["org"]))


def overdue_groups(cases: Sequence[Case], org_name: Callable[[str | None], str]) -> list[dict[str, Any]]:
    """Open overdue cases counted by current stage and org unit, the largest first."""
    counts = Counter(
        (c.row.stage, org_name(c.view.record.org_unit))
        for c in cases
        if c.view.record.status in ("running", "incident") and c.row.state_code == OVERDUE
    )
    return [{"stage": s, "org": o, "count": n} for (s, o), n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]
