"""The audit chains: events that move no process, and their verification."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.audit import AuditEvent, Verdict, verify_chain
from engine.digest import FORGED, MISMATCH, Digest, Leaf, head_problem, latest_covering, make_digest, signature_problem
from engine.errors import InvalidRequestError, NotFoundError
from engine.events import EventDraft
from engine.ports import Unit
from engine.service.core import Core
from engine.service.stepping import annotate, append_system


def system_event(core: Core, draft: EventDraft, write: Callable[[Unit], None] | None = None) -> None:
    """An event on the system chain (keys issued, endpoints set), in one
    transaction with what ``write`` stores."""
    with core.store.unit() as unit:
        if write is not None:
            write(unit)
        append_system(core, unit, draft)


def record_access(core: Core, instance_id: str, what: str, *, actor: str | None, detail: Mapping[str, Any]) -> None:
    """An administrative/read event on the instance's chain, e.g. a full
    身份证号 shown on the case page."""
    with core.store.unit() as unit:
        annotate(core, unit, instance_id, EventDraft(what, dict(detail), actor=actor))


def events(core: Core, instance_id: str) -> list[AuditEvent]:
    with core.store.reader() as unit:
        core.instance(unit, instance_id)
        return list(unit.events(instance_id))


def verify(core: Core, chain_id: str | None = None) -> list[Verdict]:
    """Each chain's own links, then (when digests are configured) the latest
    signed digest that covers it: a chain rewritten with recomputed hashes
    passes the first check but not the second."""
    digests = core.anchors.archive.newest_first() if core.anchors is not None else []
    forged: dict[int | None, str | None] = {}
    with core.store.reader() as unit:
        ids = [chain_id] if chain_id else unit.chain_ids()
        verdicts = []
        for cid in ids:
            head = unit.get_instance(cid)
            chained = list(unit.events(cid))
            if head is None and not chained:
                raise NotFoundError(f"实例 {cid} 不存在", code="INSTANCE_NOT_FOUND")
            if head is None:
                verdicts.append(Verdict(cid, False, len(chained), 1, "实例记录已被删除，但其审计事件仍在"))
                continue
            verdict = verify_chain(cid, chained, head_count=head.event_count, head_hash=head.head_hash)
            covering = latest_covering(digests, cid)
            if verdict.ok and covering is not None:
                verdict = _against(core, verdict, chained, *covering, forged)
            verdicts.append(verdict)
        return verdicts


def _against(
    core: Core,
    verdict: Verdict,
    chained: list[AuditEvent],
    digest: Digest,
    leaf: Leaf,
    forged: dict[int | None, str | None],
) -> Verdict:
    assert core.anchors is not None
    if digest.id not in forged:
        forged[digest.id] = signature_problem(digest, core.anchors.keys)
    problem = forged[digest.id]
    if problem is not None:
        return Verdict(verdict.chain_id, False, verdict.events, None, problem, FORGED)
    mismatch = head_problem([e.hash for e in chained], leaf, digest)
    if mismatch is not None:
        return Verdict(verdict.chain_id, False, verdict.events, mismatch[0], mismatch[1], MISMATCH)
    return verdict


def chain_heads(core: Core) -> list[Leaf]:
    """Every chain's head as recorded on its instance (the system chain included)."""
    with core.store.reader() as unit:
        heads = []
        for cid in unit.chain_ids():
            record = unit.get_instance(cid)
            if record is not None and record.event_count:
                heads.append(Leaf(cid, record.event_count, record.head_hash))
        return heads


def write_digest(core: Core) -> Digest:
    """Sign and store a digest of every chain head, now."""
    if core.anchors is None:
        raise InvalidRequestError(
            "未配置摘要签名密钥（JIUZHU_DIGEST_KEY_FILE 或 JIUZHU_DIGEST_KEY）", code="DIGEST_KEY_MISSING"
        )
    digest = make_digest(chain_heads(core), core.anchors.keys, core.clock.now())
    return core.anchors.archive.save(digest)
