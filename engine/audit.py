"""The append-only, hash-chained audit log.

Each event's ``body`` is canonical JSON holding every field, including the
previous event's hash; ``hash`` is SHA-256 over exactly those bytes. The
chain head (event count and last hash) is also kept on the instance, so
dropping events from the end is caught as well as changing any byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from engine.events import EventDraft

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return repr(value)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable)


@dataclass(frozen=True)
class AuditEvent:
    chain_id: str
    seq: int
    type: str
    occurred_at: datetime
    actor: str | None
    task_id: str | None
    element_id: str | None
    body: str
    hash: str

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)["payload"]
        return payload

    @property
    def prev_hash(self) -> str:
        prev: str = json.loads(self.body)["prev_hash"]
        return prev


def seal(
    chain_id: str, drafts: Sequence[EventDraft], *, after_seq: int, prev_hash: str, at: datetime
) -> list[AuditEvent]:
    """Number and chain ``drafts`` after the chain's current head."""
    sealed = []
    for offset, draft in enumerate(drafts, start=1):
        content = {
            "chain_id": chain_id,
            "seq": after_seq + offset,
            "type": draft.type,
            "occurred_at": at.astimezone(UTC).isoformat(),
            "actor": draft.actor,
            "task_id": draft.task_id,
            "element_id": draft.element_id,
            "payload": draft.payload,
            "prev_hash": prev_hash,
        }
        body = canonical_json(content)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        sealed.append(
            AuditEvent(
                chain_id, after_seq + offset, draft.type, at, draft.actor, draft.task_id, draft.element_id, body, digest
            )
        )
        prev_hash = digest
    return sealed


@dataclass(frozen=True)
class Verdict:
    chain_id: str
    ok: bool
    events: int
    broken_seq: int | None = None
    reason: str | None = None
    code: str | None = None  # stable, for machines: CHAIN_DIGEST_MISMATCH, CHAIN_DIGEST_SIGNATURE_INVALID

    def describe(self) -> str:
        if self.ok:
            return f"{self.chain_id}: ok ({self.events} 条事件)"
        tag = f" [{self.code}]" if self.code else ""
        if self.broken_seq is None:
            return f"{self.chain_id}: {self.reason}{tag}"
        return f"{self.chain_id}: 第 {self.broken_seq} 条事件被篡改：{self.reason}{tag}"


def verify_chain(chain_id: str, events: Iterable[AuditEvent], *, head_count: int, head_hash: str) -> Verdict:
    """Find the first event whose bytes, columns or links do not hold."""
    prev, count = GENESIS, 0
    for expected_seq, event in enumerate(events, start=1):
        count = expected_seq
        if event.seq != expected_seq:
            return Verdict(chain_id, False, count, expected_seq, f"序号不连续（应为 {expected_seq}，实为 {event.seq}）")
        if hashlib.sha256(event.body.encode("utf-8")).hexdigest() != event.hash:
            return Verdict(chain_id, False, count, event.seq, "事件内容与其哈希不符")
        try:
            body = json.loads(event.body)
        except ValueError:
            return Verdict(chain_id, False, count, event.seq, "事件内容不是有效 JSON")
        columns = {
            "chain_id": event.chain_id,
            "seq": event.seq,
            "type": event.type,
            "actor": event.actor,
            "task_id": event.task_id,
            "element_id": event.element_id,
        }
        for key, value in columns.items():
            if body.get(key) != value:
                return Verdict(chain_id, False, count, event.seq, f"字段 {key} 与已签名内容不一致")
        if body.get("occurred_at") != event.occurred_at.astimezone(UTC).isoformat():
            return Verdict(chain_id, False, count, event.seq, "字段 occurred_at 与已签名内容不一致")
        if body.get("prev_hash") != prev:
            return Verdict(chain_id, False, count, event.seq, "与前一条事件的哈希链接断开")
        prev = event.hash
    if count != head_count or prev != (head_hash if head_count else GENESIS):
        return Verdict(
            chain_id,
            False,
            count,
            count + 1 if count < head_count else count,
            "事件数量或链头与实例记录不符（事件被删除或追加）",
        )
    return Verdict(chain_id, True, count)
