"""通知书文号: each printed notice gets a number of its issuing body's yearly sequence
(``清河民救〔2026〕第0007号``), allocated the first time the notice is issued and kept,
so every reprint shows the same number.

Allocation is one step on the case (``Engine.annotate``): the number row and a
``notice_numbered`` event on the case's audit chain are written in one transaction.
Two cases of one issuer numbered at once may both read the same highest number; the
unique constraint on (issuer, year, seq) refuses the second insert, and it is tried
again with the next number. On SQLite the write lock makes that never happen; on
PostgreSQL it does, and the retry settles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from engine.errors import ConflictError
from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit
from engine.service.facade import Engine
from integrations.sql.notice_tables import NoticeNumberRow
from integrations.sql.times import aware, to_db

T = NoticeNumberRow.__table__  # type: ignore[attr-defined]
ATTEMPTS = 20


@dataclass(frozen=True)
class Notice:
    """Which notice: of one case, about one decision (its audit event), of one kind."""

    instance_id: str
    decision_seq: int
    kind: str
    title: str


@dataclass(frozen=True)
class NoticeNumber:
    number: str
    issuer: str
    year: int
    seq: int
    issued_at: datetime
    issued_by: str | None


def format_number(issuer: str, year: int, seq: int) -> str:
    """The 文号 as printed: 机关代字〔年份〕第序号号, the sequence four digits wide."""
    return f"{issuer}〔{year}〕第{seq:04d}号"


def _conn(unit: Unit) -> Any:
    return cast(Any, unit).conn


def _where(notice: Notice) -> tuple[Any, ...]:
    return (T.c.instance_id == notice.instance_id, T.c.decision_seq == notice.decision_seq, T.c.kind == notice.kind)


def _number(row: Any) -> NoticeNumber:
    return NoticeNumber(row.number, row.issuer, row.year, row.seq, aware(row.issued_at), row.issued_by)


def _found(unit: Unit, notice: Notice) -> NoticeNumber | None:
    row = _conn(unit).execute(select(T).where(*_where(notice))).first()
    return _number(row) if row is not None else None


def find(engine: Engine, notice: Notice) -> NoticeNumber | None:
    with engine.store.reader() as unit:
        return _found(unit, notice)


def issue(engine: Engine, notice: Notice, *, issuer: str, year: int, actor: str | None) -> NoticeNumber:
    """The notice's number: the one it was given, or the next of ``issuer``'s ``year``."""
    found = find(engine, notice)
    if found is not None:
        return found

    def allocate(unit: Unit, _record: InstanceRecord) -> list[EventDraft]:
        conn = _conn(unit)
        if _found(unit, notice) is not None:  # numbered meanwhile (the case row is locked now)
            return []
        last = conn.execute(select(func.max(T.c.seq)).where(T.c.issuer == issuer, T.c.year == year)).scalar()
        seq = int(last or 0) + 1
        number = format_number(issuer, year, seq)
        conn.execute(
            insert(T).values(
                issuer=issuer, year=year, seq=seq, number=number, instance_id=notice.instance_id,
                decision_seq=notice.decision_seq, kind=notice.kind, issued_at=to_db(engine.clock.now()),
                issued_by=actor,
            )
        )  # fmt: skip
        payload = {"kind": notice.kind, "title": notice.title, "number": number, "decision_seq": notice.decision_seq}
        return [EventDraft("notice_numbered", payload, actor=actor)]

    for _ in range(ATTEMPTS):
        try:
            engine.annotate(notice.instance_id, allocate)
        except IntegrityError:
            continue  # another case took that number first: the next try reads past it
        found = find(engine, notice)
        if found is not None:
            return found
    raise ConflictError("通知书文号分配冲突，请稍后重试", code="NOTICE_NUMBER_CONFLICT")
