"""SQL implementation of :class:`engine.ports.DraftStore`."""

from __future__ import annotations

import json

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.ports import Draft
from integrations.sql.tables import FormDraftRow
from integrations.sql.times import aware, to_db

DRAFT = FormDraftRow.__table__  # type: ignore[attr-defined]


class SqlDraftStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, draft: Draft) -> None:
        values = {
            "instance_id": draft.instance_id,
            "saved_at": to_db(draft.saved_at),
            "data": json.dumps(draft.data, ensure_ascii=False, sort_keys=True),
        }
        mine = (DRAFT.c.task_id == draft.task_id) & (DRAFT.c.username == draft.username)
        with self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                for _attempt in range(2):  # two first saves at once: the loser of the insert updates
                    try:
                        with conn.begin():
                            if not conn.execute(update(DRAFT).where(mine).values(**values)).rowcount:
                                row = {"task_id": draft.task_id, "username": draft.username, **values}
                                conn.execute(insert(DRAFT).values(**row))
                        return
                    except IntegrityError:
                        continue
            finally:
                conn.info.pop("write", None)
        raise RuntimeError("draft could not be saved")  # pragma: no cover - needs a third concurrent writer

    def load(self, task_id: str, username: str) -> Draft | None:
        query = select(DRAFT).where((DRAFT.c.task_id == task_id) & (DRAFT.c.username == username))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Draft(row.task_id, row.username, json.loads(row.data), aware(row.saved_at), row.instance_id)

    def discard(self, task_id: str, username: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(DRAFT).where((DRAFT.c.task_id == task_id) & (DRAFT.c.username == username)))
