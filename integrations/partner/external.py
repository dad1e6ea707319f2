"""The external-task operations a partner system calls: fetch-and-lock,
extend-lock, complete, return. Each write is one engine transaction that also
checks the lease and records the lease or result on the instance's chain."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from engine.errors import ConflictError, InvalidRequestError, NotFoundError
from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit
from engine.service.facade import Engine
from integrations.partner.handoffs import SIGN, H
from integrations.partner.idempotency import Remember
from integrations.partner.keys import Partner, aware, conn


def _available(now: datetime) -> Any:
    return (H.c.status == "open") & or_(H.c.lease_until.is_(None), H.c.lease_until <= now)


def _view(row: Any, token: str, until: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "topic": row.item_code,
        "step": "sign" if row.element_id == SIGN else "result",
        "round": row.round,
        "lock_token": token,
        "lock_expires_at": until.astimezone(UTC).isoformat(),
        "payload": json.loads(row.payload),
    }


def fetch_and_lock(
    engine: Engine,
    partner: Partner,
    *,
    worker_id: str,
    topics: Sequence[str] = (),
    handoff_ids: Sequence[str] = (),
    max_tasks: int = 10,
    lease: timedelta,
    remember: Remember | None = None,
) -> list[dict[str, Any]]:
    """Each lock is a transaction of its own, because it is an event on its own
    instance's chain (engine.annotate steps one instance). So with an
    idempotency key each lock also stores the answer so far
    (``{"tasks": [...]}``) in its transaction: a retry after a crash between
    two locks, or after the last one, gets the tasks that were locked and
    never locks more. Storing the answer once after the loop would leave a
    window in which the locks are taken but the key is unknown."""
    now = engine.clock.now()
    query = select(H).where(H.c.department == partner.department, _available(now)).order_by(H.c.created_at, H.c.id)
    if topics:
        query = query.where(H.c.item_code.in_(list(topics)))
    if handoff_ids:
        query = query.where(H.c.id.in_(list(handoff_ids)))
    with engine.store.reader() as unit:
        candidates = conn(unit).execute(query.limit(max_tasks * 3)).all()
    locked: list[dict[str, Any]] = []
    for row in candidates:
        if len(locked) >= max_tasks:
            break
        token, until = secrets.token_urlsafe(18), now + lease

        def take(
            unit: Unit, _record: InstanceRecord, row: Any = row, token: str = token, until: datetime = until
        ) -> list[EventDraft]:
            won = conn(unit).execute(
                update(H)
                .where(H.c.id == row.id, _available(now))
                .values(lease_token=token, lease_owner=worker_id, lease_until=until)
            )
            if won.rowcount != 1:
                return []  # another fetch took it first
            if remember is not None:
                remember(unit, {"tasks": [*locked, _view(row, token, until)]})
            fields = sorted(json.loads(row.payload)["household"])
            payload = {
                "handoff_id": row.id,
                "item": row.item_code,
                "department": partner.department,
                "worker": worker_id,
                "key_id": partner.key_id,
                "until": until.isoformat(),
                "fields_read": fields,
            }
            return [
                EventDraft(
                    "partner_leased", payload, task_id=row.id, element_id=row.element_id, actor=partner.department
                )
            ]

        view = engine.annotate(row.instance_id, take)
        if view.changed:
            locked.append(_view(row, token, until))
    return locked


def _held(unit: Unit, partner: Partner, handoff_id: str, token: str, now: datetime) -> Any:
    row = conn(unit).execute(select(H).where(H.c.id == handoff_id)).first()
    if row is None or row.department != partner.department:
        # Another department's handoff does not exist, as far as this key knows.
        raise NotFoundError(f"联办事项 {handoff_id} 不存在", code="HANDOFF_NOT_FOUND")
    if row.status != "open":
        raise ConflictError(f"联办事项已办结或已退回（{row.status}），不能再提交", code="HANDOFF_CLOSED")
    if row.lease_token != token or row.lease_until is None or aware(row.lease_until) <= now:
        raise ConflictError("锁定已过期或已被其他工作者取得，请重新获取后再提交", code="LEASE_LOST")
    return row


def _owned(engine: Engine, partner: Partner, handoff_id: str) -> Any:
    with engine.store.reader() as unit:
        query = select(H.c.instance_id, H.c.element_id, H.c.department).where(H.c.id == handoff_id)
        row = conn(unit).execute(query).first()
    if row is None or row.department != partner.department:
        raise NotFoundError(f"联办事项 {handoff_id} 不存在", code="HANDOFF_NOT_FOUND")
    return row


def extend_lock(
    engine: Engine, partner: Partner, handoff_id: str, token: str, *, lease: timedelta, remember: Remember | None = None
) -> dict[str, Any]:
    now = engine.clock.now()
    until = now + lease
    response = {"id": handoff_id, "lock_expires_at": until.astimezone(UTC).isoformat()}

    def extend(unit: Unit, _record: InstanceRecord) -> list[EventDraft]:
        row = _held(unit, partner, handoff_id, token, now)
        conn(unit).execute(update(H).where(H.c.id == handoff_id).values(lease_until=until))
        if remember is not None:
            remember(unit, response)
        payload = {"handoff_id": handoff_id, "item": row.item_code, "until": until.isoformat()}
        return [EventDraft("partner_lease_extended", payload, task_id=handoff_id, actor=partner.department)]

    engine.annotate(_owned(engine, partner, handoff_id).instance_id, extend)
    return response


# The lease (or, on the web, the absence of one) is checked inside the step's
# transaction: ``check`` returns the open handoff row or raises.
Check = Callable[[Unit, datetime], Any]


def finish(
    engine: Engine,
    handoff_id: str,
    data: dict[str, Any],
    *,
    status: str,
    event: str,
    info: dict[str, Any],
    actor: str,
    department: str,
    check: Check,
    remember: Remember | None = None,
) -> dict[str, Any]:
    """Complete a handoff's task and record ``event`` once, for the API and the partner inbox alike."""
    now = engine.clock.now()
    response = {"id": handoff_id, "status": status}
    with engine.store.reader() as unit:
        instance_id = check(unit, now).instance_id

    def close(unit: Unit, _record: InstanceRecord) -> list[EventDraft]:
        row = check(unit, now)
        # The status itself is set by the commit hook, which sees the task leave.
        payload = {"handoff_id": handoff_id, "item": row.item_code, "department": department, **info}
        if remember is not None:
            remember(unit, response)
        return [EventDraft(event, payload, task_id=handoff_id, element_id=row.element_id, actor=actor)]

    # A late completion rolls back whole, the task stays where it was.
    engine.complete_task(instance_id, handoff_id, data, actor=actor, extra=close)
    return response


def _lease(partner: Partner, handoff_id: str, token: str) -> Check:
    return lambda unit, now: _held(unit, partner, handoff_id, token, now)


def report_data(element_id: str, report: dict[str, Any]) -> dict[str, Any]:
    """A result as the task's form takes it: at 签收 it also ends the 签收 (办结反馈)."""
    return {"partner_action": "办结反馈", "report": report} if element_id == SIGN else {"report": report}


def complete(
    engine: Engine,
    partner: Partner,
    handoff_id: str,
    token: str,
    report: dict[str, Any],
    remember: Remember | None = None,
) -> dict[str, Any]:
    data = report_data(_owned(engine, partner, handoff_id).element_id, report)
    return finish(
        engine, handoff_id, data, status="completed", event="partner_result", info={"granted": report.get("granted")},
        actor=partner.department, department=partner.department, check=_lease(partner, handoff_id, token),
        remember=remember,
    )  # fmt: skip


def return_(
    engine: Engine, partner: Partner, handoff_id: str, token: str, reason: str, remember: Remember | None = None
) -> dict[str, Any]:
    if _owned(engine, partner, handoff_id).element_id != SIGN:
        raise InvalidRequestError("已签收的事项不能退回，请反馈办理结果", code="HANDOFF_NOT_RETURNABLE")
    data = {"partner_action": "退回民政", "return_reason": reason}
    return finish(
        engine, handoff_id, data, status="returned", event="partner_returned", info={"reason": reason},
        actor=partner.department, department=partner.department, check=_lease(partner, handoff_id, token),
        remember=remember,
    )  # fmt: skip
