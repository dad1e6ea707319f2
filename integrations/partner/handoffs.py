"""Handoffs as external tasks (Camunda fetch-and-lock style).

A handoff is a ready task of the 联办部门 lane that carries a ``handoff``
(yijianshi_handoff: 签收 or 办理). :func:`record_handoffs` runs inside the
engine's commit, so the handoff row and its outbox event commit with the step
that made the task ready (or took it away). Leases are rows, timed by the
engine's clock; every lease and result is an event on the instance's chain.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit
from engine.runtime.run import InstanceRun
from engine.runtime.tasks import ReadyTask
from integrations.partner.keys import conn
from integrations.sql.partner_tables import HandoffRow, OutboxRow, PartnerEndpointRow

H = HandoffRow.__table__  # type: ignore[attr-defined]
OUT = OutboxRow.__table__  # type: ignore[attr-defined]
P = PartnerEndpointRow.__table__  # type: ignore[attr-defined]

PARTNER_LANE = "联办部门"
SIGN = "ho_sign"


def minimised(handoff: dict[str, Any]) -> dict[str, Any]:
    """Exactly what the item's catalogue entry lets its partner see."""
    item = handoff["item"]
    visible = list(handoff["visible_fields"])
    household = handoff.get("household", {})
    return {
        "item": {k: item[k] for k in ("code", "name", "partner") if k in item},
        "household": {k: household[k] for k in visible if k in household},
        "round": handoff.get("round"),
        "pushed_on": handoff.get("pushed_on"),
        "due_on": handoff.get("due_on"),
        # 民政's 补正说明 is written for the partner; the corrected values themselves are in ``household``.
        "returns": [
            {
                "round": r.get("round"),
                "reason": r.get("reason"),
                "correction_note": r.get("correction_note"),
                "corrected_fields": list(r.get("corrected_fields") or []),
            }
            for r in handoff.get("returns", [])
        ],  # fmt: skip
    }


def _outbox(unit: Unit, row: dict[str, Any], kind: str, now: datetime, extra: dict[str, Any] | None = None) -> None:
    endpoint = conn(unit).execute(select(P.c.department).where(P.c.department == row["department"])).first()
    if endpoint is None:
        return  # a pull-only partner: nothing to push
    event_id = str(uuid.uuid4())
    body = {
        "id": event_id,
        "type": kind,
        "handoff_id": row["id"],
        "item_code": row["item_code"],
        "department": row["department"],
        "occurred_at": now.astimezone(UTC).isoformat(),
        "data": json.loads(row["payload"]),
        **(extra or {}),
    }
    conn(unit).execute(
        insert(OUT).values(
            id=event_id,
            handoff_id=row["id"],
            instance_id=row["instance_id"],
            department=row["department"],
            type=kind,
            body=json.dumps(body, ensure_ascii=False, sort_keys=True),
            created_at=now,
            status="pending",
            attempts=0,
            next_attempt_at=now,
        )
    )


def _lane(run: InstanceRun, task_id: str) -> str | None:
    try:
        return run.lane_of(task_id)
    except Exception:  # not in the tree any more: it may have been a handoff
        return PARTNER_LANE


def record_handoffs(
    unit: Unit,
    record: InstanceRecord,
    run: InstanceRun,
    added: Sequence[ReadyTask],
    removed: Sequence[str],
    now: datetime,
) -> list[EventDraft]:
    """The engine's commit hook: open and close handoff rows with the step."""
    drafts = []
    for task in added:
        if task.lane != PARTNER_LANE:
            continue
        handoff = run.task_data(task.id).get("handoff")
        if not isinstance(handoff, dict):
            continue
        payload = minimised(handoff)
        row = {
            "id": task.id,
            "instance_id": record.id,
            "element_id": task.element_id,
            "item_code": payload["item"]["code"],
            "department": payload["item"]["partner"],
            "status": "open",
            "round": int(handoff.get("round") or 1),
            "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
            "created_at": now,
        }
        conn(unit).execute(insert(H).values(**row))
        if task.element_id == SIGN:
            kind = "handoff.resent" if row["round"] > 1 else "handoff.created"
            _outbox(unit, row, kind, now)
            info = {
                "handoff_id": task.id,
                "item": row["item_code"],
                "item_name": payload["item"].get("name"),
                "department": row["department"],
                "event": kind,
                "round": row["round"],
                "due_on": payload.get("due_on"),
            }
            drafts.append(EventDraft("handoff_opened", info, task_id=task.id, element_id=task.element_id))
    # Most steps close no handoff: look for rows only when a partner task left.
    if any(_lane(run, task_id) == PARTNER_LANE for task_id in removed):
        rows = conn(unit).execute(select(H).where(H.c.id.in_(list(removed)), H.c.status == "open")).all()
        for r in rows:
            action = run.task_data(r.id).get("partner_action")
            status = "returned" if action == "退回民政" else "completed"
            if run.status == "terminated":
                status = "cancelled"
            conn(unit).execute(update(H).where(H.c.id == r.id).values(status=status, closed_at=now))
            if status in ("returned", "cancelled"):
                _outbox(unit, dict(r._mapping), f"handoff.{status}", now)
    return drafts
