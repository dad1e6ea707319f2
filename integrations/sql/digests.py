"""The ``chain_digest`` table: signed digests of every audit chain's head
(see :mod:`engine.digest`). Rows are only ever added."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import Text, insert, select
from sqlmodel import Column, Field, SQLModel

from engine.digest import Digest
from integrations.sql.times import aware, to_db


class ChainDigestRow(SQLModel, table=True):
    __tablename__ = "chain_digest"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(index=True)
    root: str = Field(max_length=64)
    chains: int
    public_key: str = Field(max_length=64)
    signature: str = Field(max_length=128)
    leaves: str = Field(sa_column=Column(Text, nullable=False))  # JSON: [[chain_id, count, head], ...]


T = ChainDigestRow.__table__  # type: ignore[attr-defined]


def _digest(row: Any) -> Digest:
    data = {
        "created_at": aware(row.created_at).isoformat(),
        "root": row.root,
        "public_key": row.public_key,
        "signature": row.signature,
        "leaves": [{"chain_id": c, "count": n, "head": h} for c, n, h in json.loads(row.leaves)],
    }
    return replace(Digest.from_json(data), id=row.id)


class SqlDigestArchive:
    def __init__(self, engine: SqlEngine) -> None:
        self.engine = engine

    def save(self, digest: Digest) -> Digest:
        leaves = json.dumps([[x.chain_id, x.count, x.head] for x in digest.leaves], ensure_ascii=False)
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(T).values(
                    created_at=to_db(digest.created_at),
                    root=digest.root,
                    chains=len(digest.leaves),
                    public_key=digest.public_key,
                    signature=digest.signature,
                    leaves=leaves,
                )
            )
            key = result.inserted_primary_key
        return replace(digest, id=int(key[0]) if key else None)

    def newest_first(self) -> list[Digest]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(T).order_by(T.c.created_at.desc(), T.c.id.desc())).all()
        return [_digest(r) for r in rows]

    def latest(self) -> Digest | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(T).order_by(T.c.created_at.desc(), T.c.id.desc()).limit(1)).first()
        return _digest(row) if row is not None else None
