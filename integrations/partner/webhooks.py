"""Signed webhooks from the outbox.

Signature: ``X-Jiuzhu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
and ``X-Jiuzhu-Event-Id``. A receiver must (1) recompute v1 over the raw body,
(2) refuse a ``t`` further than its tolerance (300 s) from its own clock, and
(3) remember event ids it applied and ignore a second delivery of one: the
worker delivers at least once (a worker killed after the POST redelivers).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update

from engine.errors import NotFoundError
from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit
from engine.service.facade import Engine
from integrations.partner.handoffs import OUT, P
from integrations.partner.keys import aware, conn

SIGNATURE_HEADER = "X-Jiuzhu-Signature"
EVENT_HEADER = "X-Jiuzhu-Event-Id"

# (url, body, headers) -> HTTP status; raises on a connection failure.
Post = Callable[[str, bytes, dict[str, str]], int]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Policy values, configurable per installation."""

    backoff_base: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(hours=6)
    max_attempts: int = 8
    claim_for: timedelta = timedelta(minutes=2)  # a worker that dies mid-delivery lets go after this


def set_endpoint(engine: Engine, department: str, url: str, *, actor: str | None) -> str:
    secret = secrets.token_urlsafe(32)
    now = engine.clock.now()

    def write(unit: Unit) -> None:
        conn(unit).execute(P.delete().where(P.c.department == department))
        conn(unit).execute(insert(P).values(department=department, url=url, secret=secret, created_at=now))

    payload = {"department": department, "url": url}
    engine.audit_system(EventDraft("partner_webhook_set", payload, actor=actor), write)
    return secret


def _backoff(policy: DeliveryPolicy, attempts: int) -> timedelta:
    return min(policy.backoff_base * (2 ** max(attempts - 1, 0)), policy.backoff_max)


def deliver_due(engine: Engine, post: Post, policy: DeliveryPolicy = DeliveryPolicy(), *, limit: int = 50) -> int:
    """Deliver what is due now; returns how many were delivered."""
    now = engine.clock.now()
    due = (OUT.c.status == "pending") & (OUT.c.next_attempt_at <= now)
    due &= or_(OUT.c.claimed_until.is_(None), OUT.c.claimed_until <= now)
    with engine.store.reader() as unit:
        rows = (
            conn(unit)
            .execute(
                select(OUT, P.c.url, P.c.secret)
                .join(P, P.c.department == OUT.c.department)
                .where(due)
                .order_by(OUT.c.created_at)
                .limit(limit)
            )
            .all()
        )
    delivered = 0
    for row in rows:
        with engine.store.unit() as unit:
            claimed = conn(unit).execute(
                update(OUT).where(OUT.c.id == row.id, due).values(claimed_until=now + policy.claim_for)
            )
        if claimed.rowcount != 1:
            continue  # another worker has it
        body = row.body.encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(row.secret, int(now.timestamp()), body),
            EVENT_HEADER: row.id,
        }
        try:
            status, error = post(row.url, body, headers), None
        except OSError as exc:
            status, error = 0, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            _delivered(engine, row, now)
            delivered += 1
        else:
            _failed(engine, row, policy, now, error or f"HTTP {status}")
    return delivered


def _delivered(engine: Engine, row: Any, now: datetime) -> None:
    def mark(unit: Unit, _record: InstanceRecord) -> list[EventDraft]:
        done = conn(unit).execute(
            update(OUT)
            .where(OUT.c.id == row.id, OUT.c.status == "pending")
            .values(status="delivered", delivered_at=now, claimed_until=None, attempts=row.attempts + 1)
        )
        if done.rowcount != 1:
            return []
        payload = {
            "event_id": row.id,
            "type": row.type,
            "handoff_id": row.handoff_id,
            "department": row.department,
            "attempts": row.attempts + 1,
        }
        return [EventDraft("webhook_delivered", payload, task_id=row.handoff_id)]

    engine.annotate(row.instance_id, mark)


def _failed(engine: Engine, row: Any, policy: DeliveryPolicy, now: datetime, error: str) -> None:
    attempts = row.attempts + 1
    dead = attempts >= policy.max_attempts
    values = {"attempts": attempts, "claimed_until": None, "last_error": error[:500],
              "status": "dead" if dead else "pending", "next_attempt_at": now + _backoff(policy, attempts)}  # fmt: skip
    if not dead:
        with engine.store.unit() as unit:
            conn(unit).execute(update(OUT).where(OUT.c.id == row.id).values(**values))
        return

    def bury(unit: Unit, _record: InstanceRecord) -> list[EventDraft]:
        conn(unit).execute(update(OUT).where(OUT.c.id == row.id).values(**values))
        payload = {
            "event_id": row.id,
            "type": row.type,
            "handoff_id": row.handoff_id,
            "department": row.department,
            "attempts": attempts,
            "error": error[:200],
        }
        return [EventDraft("webhook_dead_lettered", payload, task_id=row.handoff_id)]

    engine.annotate(row.instance_id, bury)


def outbox(engine: Engine, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    query = select(OUT).order_by(OUT.c.created_at.desc()).limit(limit)
    if status:
        query = query.where(OUT.c.status == status)
    with engine.store.reader() as unit:
        rows = conn(unit).execute(query).all()
    return [
        {
            "id": r.id,
            "type": r.type,
            "handoff_id": r.handoff_id,
            "department": r.department,
            "status": r.status,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "next_attempt_at": aware(r.next_attempt_at).isoformat(),
            "body": json.loads(r.body),
        }  # fmt: skip
        for r in rows
    ]


def requeue(engine: Engine, event_id: str, *, actor: str | None) -> None:
    now = engine.clock.now()

    def write(unit: Unit) -> None:
        found = conn(unit).execute(
            update(OUT).where(OUT.c.id == event_id, OUT.c.status == "dead").values(status="pending", attempts=0,
                                                                                   next_attempt_at=now)
        )  # fmt: skip
        if found.rowcount != 1:  # raised inside the transaction: no audit event for a letter that is not there
            raise NotFoundError(f"死信 {event_id} 不存在", code="DEAD_LETTER_NOT_FOUND")

    engine.audit_system(EventDraft("webhook_requeued", {"event_id": event_id}, actor=actor), write)


def counts(engine: Engine) -> dict[str, int]:
    """Outbox events per delivery status."""
    query = select(OUT.c.status, func.count()).group_by(OUT.c.status)
    with engine.store.reader() as unit:
        return {str(status): int(n) for status, n in conn(unit).execute(query).all()}
