"""What an insider with write access to the database could do to an audit
chain: change one event's payload, then recompute that event's hash and every
following one, and the instance's head, so the chain's own links all hold."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import text

from engine.audit import canonical_json


def rewrite_chain(engine: SqlEngine, chain_id: str, seq: int, change: dict[str, Any]) -> None:
    """Merge ``change`` into the payload of event ``seq`` and re-hash the rest of the chain."""
    with engine.begin() as conn:
        rows = conn.execute(
            text("SELECT id, seq, body FROM audit_event WHERE chain_id = :c ORDER BY seq"), {"c": chain_id}
        ).all()
        prev = None
        for row in rows:
            body = json.loads(row.body)
            if row.seq == seq:
                body["payload"] = {**body["payload"], **change}
            if prev is not None:
                body["prev_hash"] = prev
            if row.seq >= seq:
                new_body = canonical_json(body)
                new_hash = hashlib.sha256(new_body.encode("utf-8")).hexdigest()
                conn.execute(
                    text("UPDATE audit_event SET body = :b, hash = :h WHERE id = :i"),
                    {"b": new_body, "h": new_hash, "i": row.id},
                )
                prev = new_hash
        conn.execute(text("UPDATE instance SET head_hash = :h WHERE id = :c"), {"h": prev, "c": chain_id})


def truncate_chain(engine: SqlEngine, chain_id: str, keep: int) -> None:
    """Drop the chain's events after ``keep`` and move the instance's head back to match."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE chain_id = :c AND seq > :k"), {"c": chain_id, "k": keep})
        head = conn.execute(
            text("SELECT hash FROM audit_event WHERE chain_id = :c AND seq = :k"), {"c": chain_id, "k": keep}
        ).scalar_one()
        conn.execute(
            text("UPDATE instance SET head_hash = :h, event_count = :k WHERE id = :c"),
            {"h": head, "k": keep, "c": chain_id},
        )
