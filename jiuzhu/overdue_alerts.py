"""Who sees which 督办.

An overdue limit raises one 督办 row per role its policy names (the
partner department's supervisor, the originating township, the county).
Callers on the partner side see only rows about their own department's
handoffs and addressed to one of their roles; everyone else sees the rows of
the cases in their org scope, as the case list does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.service.facade import Engine
from jiuzhu.web.auth import Viewer, in_scope


def overdue_alerts_for(engine: Engine, viewer: Viewer, *, role: str | None = None) -> list[dict[str, Any]]:
    """The open 督办 rows ``viewer`` may see, newest first (``role``: only those addressed to it)."""
    if viewer.department is not None and not viewer.scope:
        mine = set(viewer.lanes or ())  # the Chinese names of the viewer's roles
        wanted = mine & {role} if role else mine
        return [s for s in engine.overdue_alerts(partner=viewer.department) if s["role"] in wanted]
    return [s for s in engine.overdue_alerts(role=role) if in_scope(viewer, s["org_unit"])]


def addressed_to(engine: Engine, viewer: Viewer, *, limit: int) -> list[dict[str, Any]]:
    """The open 督办 addressed to one of a caseworker's roles in their scope, for the inbox;
    an admin (no lanes) sees every role's."""
    roles = viewer.lanes if viewer.lanes is not None else (None,)
    # On the inbox page: the scope and the cap go to the database, not a scan of the county's rows.
    rows = [s for role in roles for s in engine.overdue_alerts(role=role, org_units=viewer.scope, limit=limit)]
    return sorted(rows, key=lambda s: s["raised_at"], reverse=True)[:limit]


def department_overdue_alerts(engine: Engine, department: str) -> list[dict[str, Any]]:
    """Open 督办 about one partner department's handoffs, one entry per late
    task (its rows grouped, ``to`` naming every role it went to), newest first.
    For the partner inbox, which marks the handoffs a supervisor was told about."""
    return group(engine.overdue_alerts(partner=department))


def group(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["instance_id"], row["clock"], row["due_on"])
        entry = grouped.setdefault(key, {**{k: v for k, v in row.items() if k != "role"}, "to": []})
        if row["role"] is not None:
            entry["to"].append(row["role"])
    for entry in grouped.values():
        entry["to"].reverse()  # rows come newest (= last inserted) first; the policy's order is kept
    return list(grouped.values())
