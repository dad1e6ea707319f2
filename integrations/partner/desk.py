"""The partner inbox's side of the handoff table: a department's handoffs by
tab, one handoff with its read audited, and the person-driven actions (签收,
退回民政, 反馈结果). The actions complete the task through
:func:`integrations.partner.external.finish`, the same step the API uses, and
refuse while a partner system holds a live lease rather than race it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, select

from engine.errors import ConflictError, InvalidRequestError, NotFoundError
from engine.events import EventDraft
from engine.ports import Unit
from engine.service.facade import Engine
from integrations.partner.external import Check, finish, report_data
from integrations.partner.handoffs import SIGN, H
from integrations.partner.keys import aware, conn
from integrations.sql.tables import Instance

INST = Instance.__table__  # type: ignore[attr-defined]

# Tab → which handoff rows it lists.
TABS = {"sign": "待签收", "result": "办理中", "completed": "已办结", "returned": "已退回", "cancelled": "已撤销"}


def _tab_filter(tab: str) -> Any:
    if tab == "sign":
        return (H.c.status == "open") & (H.c.element_id == SIGN)
    if tab == "result":
        return (H.c.status == "open") & (H.c.element_id != SIGN)
    if tab == "completed":
        # An item ends once: a 签收 that opened its 办理 handoff (same round) is not an end.
        later = H.alias("later")
        followed = exists().where(
            later.c.instance_id == H.c.instance_id,
            later.c.item_code == H.c.item_code,
            later.c.round == H.c.round,
            later.c.element_id != SIGN,
        )
        return (H.c.status == "completed") & ~((H.c.element_id == SIGN) & followed)
    return H.c.status == tab


@dataclass(frozen=True)
class Handoff:
    """One handoff as its department sees it: the row and its minimised payload."""

    id: str
    instance_id: str
    element_id: str
    item_code: str
    department: str
    status: str
    round: int
    payload: dict[str, Any]
    region: str | None
    created_at: datetime
    closed_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None

    @property
    def item_name(self) -> str:
        return str(self.payload.get("item", {}).get("name") or self.item_code)

    @property
    def household(self) -> dict[str, Any]:
        household: dict[str, Any] = self.payload.get("household", {})
        return household

    @property
    def applicant_name(self) -> str | None:
        name = self.household.get("applicant_name")
        return str(name) if name else None

    @property
    def due_on(self) -> date | None:
        due = self.payload.get("due_on")
        return date.fromisoformat(due) if isinstance(due, str) else None

    @property
    def returns(self) -> list[dict[str, Any]]:
        returns: list[dict[str, Any]] = self.payload.get("returns", [])
        return returns

    @property
    def at_sign(self) -> bool:
        return self.element_id == SIGN

    def leased(self, now: datetime) -> bool:
        return self.lease_until is not None and aware(self.lease_until) > now


def _handoff(row: Any) -> Handoff:
    return Handoff(
        row.id,
        row.instance_id,
        row.element_id,
        row.item_code,
        row.department,
        row.status,
        row.round,
        json.loads(row.payload),
        row.region,
        row.created_at,
        row.closed_at,
        row.lease_owner,
        row.lease_until,
    )


def _query() -> Any:
    return select(H, INST.c.region).join(INST, INST.c.id == H.c.instance_id)


def listing(engine: Engine, department: str, tab: str, *, page: int, page_size: int) -> tuple[list[Handoff], int]:
    """One page of a tab (open tabs oldest first, history newest first) and the tab's total."""
    where = (H.c.department == department) & _tab_filter(tab)
    order = (H.c.created_at, H.c.id) if tab in ("sign", "result") else (H.c.closed_at.desc(), H.c.id)
    query = _query().where(where).order_by(*order).limit(page_size).offset((page - 1) * page_size)
    with engine.store.reader() as unit:
        rows = conn(unit).execute(query).all()
        total = conn(unit).execute(select(func.count()).select_from(H).where(where)).scalar_one()
    return [_handoff(r) for r in rows], int(total)


def counts(engine: Engine, department: str) -> dict[str, int]:
    found = {}
    with engine.store.reader() as unit:
        for tab in TABS:
            where = (H.c.department == department) & _tab_filter(tab)
            found[tab] = int(conn(unit).execute(select(func.count()).select_from(H).where(where)).scalar_one())
    return found


def _find(unit: Unit, department: str, handoff_id: str) -> Handoff:
    row = conn(unit).execute(_query().where(H.c.id == handoff_id)).first()
    if row is None or row.department != department:
        # Another department's handoff does not exist, as far as this user knows.
        raise NotFoundError(f"联办事项 {handoff_id} 不存在", code="HANDOFF_NOT_FOUND")
    return _handoff(row)


def one(engine: Engine, department: str, handoff_id: str) -> Handoff:
    with engine.store.reader() as unit:
        return _find(unit, department, handoff_id)


def some(engine: Engine, department: str, handoff_ids: list[str]) -> dict[str, Handoff]:
    """The department's handoffs among these ids, in one read."""
    query = _query().where(H.c.department == department, H.c.id.in_(handoff_ids))
    with engine.store.reader() as unit:
        return {h.id: h for h in map(_handoff, conn(unit).execute(query).all())}


def record_read(engine: Engine, handoff: Handoff, *, actor: str) -> None:
    """A person saw the handoff's household fields: on the case's chain, like an API lease."""
    detail = {
        "handoff_id": handoff.id,
        "item": handoff.item_code,
        "department": handoff.department,
        "channel": "web",
        "fields_read": sorted(handoff.household),
    }
    engine.record_access(handoff.instance_id, "partner_read", actor=actor, detail=detail)


def record_list_read(engine: Engine, department: str, shown: list[Handoff], *, actor: str) -> None:
    """A list page shows each handoff's item and applicant name: one event on
    the system chain names every handoff shown (a list spans many cases)."""
    if not shown:
        return
    detail = {"department": department, "channel": "web", "fields_read": ["applicant_name"],
              "handoffs": [h.id for h in shown]}  # fmt: skip
    engine.audit_system(EventDraft("partner_list_read", detail, actor=actor))


def _free(department: str, handoff_id: str) -> Check:
    def check(unit: Unit, now: datetime) -> Any:
        found = _find(unit, department, handoff_id)
        if found.status != "open":
            raise ConflictError("该联办事项已办结或已退回，不能再提交", code="HANDOFF_CLOSED")
        if found.leased(now):
            raise ConflictError(
                f"该事项正由本单位的接口系统（{found.lease_owner}）办理中，请稍后再试或在接口系统中完成",
                code="HANDOFF_LOCKED",
            )
        return found

    return check


def _act(
    engine: Engine, actor: str, department: str, handoff_id: str, data: dict[str, Any], event: str, **info: Any
) -> Handoff:
    status = "returned" if event == "partner_returned" else "completed"
    check = _free(department, handoff_id)
    finish(engine, handoff_id, data, status=status, event=event, info={"channel": "web", **info}, actor=actor,
           department=department, check=check)  # fmt: skip
    return one(engine, department, handoff_id)


def accept(engine: Engine, *, actor: str, department: str, handoff_id: str) -> Handoff:
    _at_sign(engine, department, handoff_id, "该事项已签收，请反馈办理结果", "HANDOFF_SIGNED")
    return _act(engine, actor, department, handoff_id, {"partner_action": "签收"}, "partner_signed")


def return_(engine: Engine, *, actor: str, department: str, handoff_id: str, reason: str) -> Handoff:
    _at_sign(engine, department, handoff_id, "已签收的事项不能退回，请反馈办理结果", "HANDOFF_NOT_RETURNABLE")
    data = {"partner_action": "退回民政", "return_reason": reason}
    return _act(engine, actor, department, handoff_id, data, "partner_returned", reason=reason)


def report(engine: Engine, *, actor: str, department: str, handoff_id: str, result: dict[str, Any]) -> Handoff:
    data = report_data(one(engine, department, handoff_id).element_id, result)
    return _act(engine, actor, department, handoff_id, data, "partner_result", granted=result.get("granted"))


def _at_sign(engine: Engine, department: str, handoff_id: str, message: str, code: str) -> None:
    found = one(engine, department, handoff_id)
    if found.status == "open" and not found.at_sign:  # a closed one is refused in the step (HANDOFF_CLOSED)
        raise InvalidRequestError(message, code=code)


def next_step(engine: Engine, handoff: Handoff) -> Handoff | None:
    """After 签收: the item's 办理 handoff, opened by the same step."""
    query = _query().where(
        H.c.instance_id == handoff.instance_id, H.c.item_code == handoff.item_code, H.c.status == "open"
    )
    with engine.store.reader() as unit:
        row = conn(unit).execute(query).first()
    return _handoff(row) if row is not None else None
