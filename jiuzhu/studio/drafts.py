"""Drafts: one per procedure and designer, autosaved file by file.

A draft holds every file of a procedure by its bare name (``tanfang.bpmn``,
``tanfang_risk.dmn``, ``tanfang.decisions.json``, ``tanfang-visit-schema.json``,
``tanfang.national.sla.json``); :mod:`jiuzhu.studio.layout` says where each
belongs. Saves are revision-guarded, so a second tab cannot silently undo the
first one's work. Nothing here touches a published version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.clock import Clock
from engine.errors import ConflictError, InvalidRequestError, Location, NotFoundError
from integrations.sql.studio_tables import StudioDraftRow
from integrations.sql.times import aware, to_db

T = StudioDraftRow.__table__  # type: ignore[attr-defined]
FILE_NAME = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff]{0,119}")
# .feature: the procedure's own scenarios, edited with the draft and run by the publish check.
SUFFIXES = (".bpmn", ".dmn", ".json", ".feature")
PROCESS_ID = re.compile(r"[a-z][a-z0-9_]{1,39}")


@dataclass(frozen=True)
class Draft:
    process_id: str
    designer: str
    files: dict[str, str]
    base_version: int | None
    revision: int
    updated_at: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "process_id": self.process_id,
            "designer": self.designer,
            "files": self.files,
            "base_version": self.base_version,
            "revision": self.revision,
            "updated_at": self.updated_at.isoformat(),
        }


def check_process_id(process_id: str) -> str:
    if not PROCESS_ID.fullmatch(process_id):
        message = "流程标识须以小写字母开头，由小写字母、数字和下划线组成（2–40 个字符），例如 tanfang"
        raise InvalidRequestError(message, code="STUDIO_PROCESS_ID_INVALID", location=Location(field="process_id"))
    return process_id


def check_file_name(name: str) -> str:
    """A bare file name of a kind a procedure holds; never a path."""
    if not FILE_NAME.fullmatch(name) or ".." in name or not name.lower().endswith(SUFFIXES):
        message = f"文件名「{name}」不合规：只能是 .bpmn、.dmn、.json 或 .feature 文件名，不含目录"
        raise InvalidRequestError(message, code="STUDIO_FILE_NAME_INVALID", location=Location(file=name))
    return name


class DraftStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def get(self, process_id: str, designer: str) -> Draft | None:
        mine = (T.c.process_id == process_id) & (T.c.designer == designer)
        with self.engine.connect() as conn:
            row = conn.execute(select(T).where(mine)).first()
        return _draft(row) if row is not None else None

    def all(self) -> list[Draft]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(T).order_by(T.c.process_id, T.c.designer)).all()
        return [_draft(r) for r in rows]

    def create(self, process_id: str, designer: str, files: dict[str, str], base_version: int | None) -> Draft:
        """The designer's draft; made from ``files`` when there is none yet (a
        second tab creating it at once gets the first one's)."""
        now = to_db(self.clock.now())
        row = {"process_id": process_id, "designer": designer, "files": _dump(files), "base_version": base_version,
               "revision": 1, "created_at": now, "updated_at": now}  # fmt: skip
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(T).values(**row))
        except IntegrityError:
            pass
        found = self.get(process_id, designer)
        assert found is not None
        return found

    def put_file(self, draft: Draft, name: str, text: str | None, expected: int | None) -> Draft:
        """Save (or with ``text`` None delete) one file of the draft."""
        files = dict(draft.files)
        if text is None:
            if name not in files:
                raise NotFoundError(f"草稿中没有文件 {name}", code="STUDIO_FILE_NOT_FOUND", location=Location(name))
            del files[name]
        else:
            files[name] = text
        return self.replace(draft, files, expected, base_version=draft.base_version)

    def replace(self, draft: Draft, files: dict[str, str], expected: int | None, *, base_version: int | None) -> Draft:
        revision = draft.revision if expected is None else expected
        mine = (T.c.process_id == draft.process_id) & (T.c.designer == draft.designer) & (T.c.revision == revision)
        values = {"files": _dump(files), "revision": revision + 1, "base_version": base_version,
                  "updated_at": to_db(self.clock.now())}  # fmt: skip
        with self.engine.begin() as conn:
            changed = conn.execute(update(T).where(mine).values(**values)).rowcount
        if not changed:
            message = "草稿已在别处（另一个窗口）保存过，请刷新后再改"
            raise ConflictError(message, code="STUDIO_DRAFT_REVISION_MISMATCH")
        found = self.get(draft.process_id, draft.designer)
        assert found is not None
        return found


def _dump(files: dict[str, str]) -> str:
    return json.dumps(files, ensure_ascii=False, sort_keys=True)


def _draft(row: Any) -> Draft:
    return Draft(
        row.process_id, row.designer, json.loads(row.files), row.base_version, row.revision, aware(row.updated_at)
    )
