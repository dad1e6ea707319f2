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
    passes the first check but not the second. Checking every chain also
    names chains the latest digest covers that are gone altogether."""
    covering = _Covering(core)
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
            found = covering.of(cid)
            if verdict.ok and found is not None:
                verdict = _against(core, verdict, chained, *found, covering.forged)
            verdicts.append(verdict)
        if chain_id is None and covering.latest is not None:
            for leaf in covering.latest.leaves:
                if leaf.chain_id not in ids:
                    gone = f"与 {covering.latest.day} 的签名摘要不符：该审计链已不存在"
                    verdicts.append(Verdict(leaf.chain_id, False, 0, 1, gone, MISMATCH))
        return verdicts


class _Covering:
    """The latest digest covering a chain. Most chains are in the latest
    digest; older ones are read only for a chain it lacks."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.latest = core.anchors.archive.latest() if core.anchors is not None else None
        # Every chain is looked up here: the latest digest's leaves are indexed once, not once per chain.
        self.latest_leaves = self.latest.covers() if self.latest is not None else {}
        self.older: list[Digest] | None = None
        self.forged: dict[int | None, str | None] = {}

    def of(self, chain_id: str) -> tuple[Digest, Leaf] | None:
        if self.latest is None or self.core.anchors is None:
            return None
        leaf = self.latest_leaves.get(chain_id)
        if leaf is not None:
            return self.latest, leaf
        if self.older is None:
            self.older = self.core.anchors.archive.newest_first()
        return latest_covering(self.older, chain_id)


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
