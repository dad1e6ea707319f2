"""The notice number table: each printed 通知书's 文号, allocated once per notice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class NoticeNumberRow(SQLModel, table=True):
    """One 文号 (``清河民救〔2026〕第0007号``): a per-issuer, per-year sequence. The two unique
    constraints make allocation race-safe: two notices never share a number, and one notice
    (instance, decision, kind) never gets two."""

    __tablename__ = "notice_number"
    __table_args__ = (
        UniqueConstraint("issuer", "year", "seq", name="uq_notice_number_issuer_year_seq"),
        UniqueConstraint("instance_id", "decision_seq", "kind", name="uq_notice_number_notice"),
    )
    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=60)  # the 文号's 机关代字, e.g. 清河民救
    year: int
    seq: int
    number: str = Field(max_length=100)
    instance_id: str = Field(max_length=36, index=True)
    decision_seq: int  # the audit event the notice is about (the decision's task_completed)
    kind: str = Field(max_length=24)  # approval / rejection / happiness
    issued_at: datetime
    issued_by: str | None = None
