"""The auditors' case search, the part the database answers: scope,
procedure, start dates, 身份证号 (the applicant's, indexed, or one the chain
mentions: a household member's), who acted on the case, whether a limit ran
out, and whether a 近亲属 filing was made, all in one bounded query over the
indexed tables (``applicant_case``, the ``audit_event`` chain)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import exists, or_, select

from engine.service.facade import Engine
from integrations.sql.tables import ApplicantCase, AuditEventRow, Instance
from integrations.sql.times import aware, to_db

I = Instance.__table__  # type: ignore[attr-defined]  # noqa: E741
E = AuditEventRow.__table__  # type: ignore[attr-defined]
A = ApplicantCase.__table__  # type: ignore[attr-defined]
OVERDUE_EVENT = "sla_overdue"


@dataclass(frozen=True)
class CaseFilter:
    org_units: Sequence[str] | None = None  # None: every unit (the administrator)
    process_id: str | None = None
    # The applicant's (exact, case-insensitive X), or one some event on the chain carries as a JSON string
    # (a household member's in the start data or a submitted form): the caller checks the case's household.
    id_number: str | None = None
    started_from: datetime | None = None  # inclusive
    started_before: datetime | None = None  # exclusive
    actor: str | None = None  # a username that appears as the actor of any event on the case's chain
    overdue: bool | None = None  # a limit ran out (an ``sla_overdue`` event), or none did
    relatives: bool | None = None  # a 近亲属 filing task completed, or none did
    filing_tasks: Sequence[str] = ()  # the element ids of those filing tasks
    # Some event on the chain carries this text (a name in the start data or a submitted form): narrows a
    # name search in the database; the caller still checks the case's data.
    mentions: str | None = None


@dataclass(frozen=True)
class CaseHit:
    id: str
    process_id: str
    org_unit: str | None
    status: str
    created_at: datetime
    business_key: str | None


def _on_chain(*conditions: Any) -> Any:
    return exists().where(E.c.chain_id == I.c.id, *conditions)


def _contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere: its own % and _ are literal."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _quoted(value: str) -> str:
    """A LIKE pattern for ``value`` as a whole JSON string in an event body."""
    return _contains(f'"{value}"')


def find_cases(engine: Engine, f: CaseFilter, *, limit: int) -> list[CaseHit]:
    """At most ``limit`` cases, newest first."""
    columns = (I.c.id, I.c.process_id, I.c.org_unit, I.c.status, I.c.created_at, I.c.business_key)
    query = select(*columns).where(I.c.status != "system")
    if f.org_units is not None:
        query = query.where(I.c.org_unit.in_(list(f.org_units)))
    if f.process_id:
        query = query.where(I.c.process_id == f.process_id)
    if f.id_number:
        number = f.id_number.upper()
        applicant = I.c.id.in_(select(A.c.instance_id).where(A.c.id_number == number))
        written = {number, number.lower()}  # the X as either case (digits have none: one pattern)
        mentioned = _on_chain(or_(*(E.c.body.like(_quoted(n), escape="\\") for n in sorted(written))))
        query = query.where(or_(applicant, mentioned))
    if f.started_from is not None:
        query = query.where(I.c.created_at >= to_db(f.started_from))
    if f.started_before is not None:
        query = query.where(I.c.created_at < to_db(f.started_before))
    if f.actor:
        query = query.where(_on_chain(E.c.actor == f.actor))
    if f.overdue is not None:
        late = _on_chain(E.c.type == OVERDUE_EVENT)
        query = query.where(late if f.overdue else ~late)
    if f.relatives is not None:
        filed = _on_chain(E.c.type == "task_completed", E.c.element_id.in_(list(f.filing_tasks)))
        query = query.where(filed if f.relatives else ~filed)
    if f.mentions:
        query = query.where(_on_chain(E.c.body.like(_contains(f.mentions), escape="\\")))
    query = query.order_by(I.c.created_at.desc(), I.c.id.desc()).limit(limit)
    with engine.store.reader() as unit:
        rows = cast(Any, unit).conn.execute(query).all()
    return [CaseHit(r.id, r.process_id, r.org_unit, r.status, aware(r.created_at), r.business_key) for r in rows]
