"""The ``audit_sample`` table: each 入户抽查 sample as drawn (seed, parameters,
who, when, the cases chosen). Rows are only ever added; the drawing itself is
an event on the system chain, written in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Text, insert, select
from sqlmodel import Column, Field, SQLModel

from engine.ports import Unit
from engine.service.facade import Engine
from integrations.sql.times import aware, to_db


class AuditSampleRow(SQLModel, table=True):
    __tablename__ = "audit_sample"
    id: str = Field(primary_key=True, max_length=16)
    created_at: datetime = Field(index=True)
    created_by: str
    seed: str = Field(max_length=40)  # a decimal integer: random.Random(int(seed))
    org_unit: str | None = Field(default=None, index=True)  # the sampled scope (county or township)
    parameters: str = Field(sa_column=Column(Text, nullable=False))  # JSON object
    population: int = Field(sa_column=Column(Integer, nullable=False))
    instance_ids: str = Field(sa_column=Column(Text, nullable=False))  # JSON list, in drawing order


T = AuditSampleRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StoredSample:
    id: str
    created_at: datetime
    created_by: str
    seed: int
    org_unit: str | None
    parameters: dict[str, Any]
    population: int
    instance_ids: list[str]


def _sample(row: Any) -> StoredSample:
    return StoredSample(
        row.id,
        aware(row.created_at),
        row.created_by,
        int(row.seed),
        row.org_unit,
        json.loads(row.parameters),
        row.population,
        json.loads(row.instance_ids),
    )


def insert_sample(unit: Unit, sample: StoredSample) -> None:
    """Within the transaction that audits the drawing (``Engine.audit_system``'s ``write``)."""
    cast(Any, unit).conn.execute(
        insert(T).values(
            id=sample.id,
            created_at=to_db(sample.created_at),
            created_by=sample.created_by,
            seed=str(sample.seed),
            org_unit=sample.org_unit,
            parameters=json.dumps(sample.parameters, ensure_ascii=False, sort_keys=True),
            population=sample.population,
            instance_ids=json.dumps(sample.instance_ids),
        )
    )


def find_sample(engine: Engine, sample_id: str) -> StoredSample | None:
    with engine.store.reader() as unit:
        row = cast(Any, unit).conn.execute(select(T).where(T.c.id == sample_id)).first()
    return _sample(row) if row is not None else None


def recent_samples(engine: Engine, *, org_units: list[str] | None, limit: int) -> list[StoredSample]:
    """Newest first; ``org_units`` None: every sample (the administrator)."""
    query = select(T).order_by(T.c.created_at.desc(), T.c.id).limit(limit)
    if org_units is not None:
        query = query.where(T.c.org_unit.in_(org_units))
    with engine.store.reader() as unit:
        return [_sample(r) for r in cast(Any, unit).conn.execute(query)]
