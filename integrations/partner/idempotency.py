"""Idempotency keys: the same key with the same body gets the first response
again; the same key with another body is refused (409)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.errors import ConflictError
from engine.ports import Unit
from engine.service.facade import Engine
from integrations.partner.keys import Partner, conn
from integrations.sql.partner_tables import IdempotencyRow

IDEM = IdempotencyRow.__table__  # type: ignore[attr-defined]


def _digest(path: str, body: Any) -> str:
    return hashlib.sha256(f"{path}\n{json.dumps(body, sort_keys=True, ensure_ascii=False)}".encode()).hexdigest()


def _recall(engine: Engine, partner: Partner, key: str, digest: str) -> dict[str, Any] | None:
    with engine.store.reader() as unit:
        row = conn(unit).execute(select(IDEM).where(IDEM.c.department == partner.department, IDEM.c.key == key)).first()
    if row is None:
        return None
    if row.body_hash != digest:
        raise ConflictError("幂等键已用于另一请求，请换用新的幂等键", code="IDEMPOTENCY_KEY_REUSED")
    return dict(json.loads(row.response))


# Stores the answer in the given transaction: a write that commits its answer
# with its effect is never done twice, even if the process dies just after. A
# write of several transactions (fetch-and-lock: one per handoff it locks)
# calls it in each, with the answer so far; the retry then gets exactly what
# had committed when the process died, and locks nothing more.
Remember = Callable[[Unit, dict[str, Any]], None]


def once(
    engine: Engine,
    partner: Partner,
    key: str | None,
    path: str,
    body: Any,
    write: Callable[[Remember | None], dict[str, Any]],
) -> dict[str, Any]:
    if not key:
        return write(None)
    digest = _digest(path, body)
    earlier = _recall(engine, partner, key, digest)
    if earlier is not None:
        return earlier
    written: list[str] = []  # the answers this request has stored, last one current

    def remember(unit: Unit, response: dict[str, Any]) -> None:
        text = json.dumps(response, ensure_ascii=False)
        if not written:
            # A concurrent twin with this key that stored first makes this insert
            # fail, and with it the twin's lock or result in the same transaction.
            values = {"department": partner.department, "key": key, "body_hash": digest, "status_code": 200,
                      "response": text, "created_at": engine.clock.now()}  # fmt: skip
            conn(unit).execute(insert(IDEM).values(**values))
        else:
            mine = (IDEM.c.department == partner.department) & (IDEM.c.key == key) & (IDEM.c.response == written[-1])
            if conn(unit).execute(update(IDEM).where(mine).values(response=text)).rowcount != 1:
                raise ConflictError("同一幂等键的请求正在并发处理，请稍后重试", code="IDEMPOTENCY_KEY_BUSY")
        written.append(text)

    try:
        response = write(remember)
    except IntegrityError:
        # The twin got there first; its answer stands.
        earlier = _recall(engine, partner, key, digest)
        if earlier is None:
            raise
        return earlier
    if written:
        return response  # remembered inside the write's own transaction(s)
    try:
        # A write with no effect to protect (nothing to lock): its answer on its own.
        with engine.store.unit() as unit:
            remember(unit, response)
    except IntegrityError:
        return _recall(engine, partner, key, digest) or response
    return response
