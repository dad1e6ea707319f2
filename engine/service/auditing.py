"""The audit chains: events that move no process, and their verification."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.audit import AuditEvent, Verdict, verify_chain
from engine.errors import NotFoundError
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
            verdicts.append(verify_chain(cid, chained, head_count=head.event_count, head_hash=head.head_hash))
        return verdicts
