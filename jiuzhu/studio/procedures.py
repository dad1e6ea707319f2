"""The studio's view of procedures: a designer's draft (made on first open from
the newest deployed version, or a start → end model for a new procedure), the
procedures with their versions and drafts, and each version's publication
record as the system audit chain holds it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as SqlEngine

from engine.errors import NotFoundError
from engine.service.core import SYSTEM_CHAIN
from engine.service.facade import Engine
from jiuzhu.studio.drafts import Draft, DraftStore, check_process_id
from jiuzhu.studio.layout import folder_of, kind, minimal_model, version_files

PROCESS_NAME = re.compile(r'<bpmn:process\b[^>]*\bname="([^"]*)"')


@dataclass(frozen=True)
class Procedure:
    process_id: str
    name: str
    versions: list[dict[str, Any]]  # newest first
    drafts: list[Draft]


class Studio:
    """What the studio's pages and API do, over the engine and the drafts table."""

    def __init__(self, engine: Engine, sql: SqlEngine, processes_dir: Path) -> None:
        self.engine = engine
        self.drafts = DraftStore(sql, engine.clock)
        self.processes_dir = processes_dir

    def folder(self, process_id: str) -> str:
        versions = self.engine.versions(process_id)
        model = max(versions, key=lambda v: v.version).definition.get("file") if versions else None
        return folder_of(str(model) if model else None, process_id)

    def open_draft(self, process_id: str, designer: str, *, name: str | None = None) -> Draft:
        """The designer's draft, made on first open."""
        check_process_id(process_id)
        found = self.drafts.get(process_id, designer)
        if found is not None:
            return found
        if self.engine.versions(process_id):
            base = version_files(self.engine, self.processes_dir, process_id)
            return self.drafts.create(process_id, designer, base.files, base.version)
        files = {f"{process_id}.bpmn": minimal_model(process_id, name or process_id)}
        return self.drafts.create(process_id, designer, files, None)

    def existing_draft(self, process_id: str, designer: str) -> Draft:
        found = self.drafts.get(check_process_id(process_id), designer)
        if found is None:
            raise NotFoundError(f"您还没有流程 {process_id} 的草稿", code="STUDIO_DRAFT_NOT_FOUND")
        return found

    def exists(self, process_id: str) -> bool:
        return bool(self.engine.versions(process_id)) or any(d.process_id == process_id for d in self.drafts.all())

    def publications(self) -> dict[str, dict[str, Any]]:
        """``content_hash -> {actor, at, note}`` from the system chain's deployment events."""
        found: dict[str, dict[str, Any]] = {}
        with self.engine.store.reader() as unit:
            events = list(unit.events(SYSTEM_CHAIN))
        for event in events:
            if event.type == "deployment_created":
                payload = event.payload
                found[payload["content_hash"]] = {"actor": event.actor, "at": event.occurred_at,
                                                  "note": payload.get("note")}  # fmt: skip
        return found

    def versions(self, process_id: str, publications: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        published = self.publications() if publications is None else publications
        rows = []
        for record in sorted(self.engine.versions(process_id), key=lambda v: -v.version):
            audit = published.get(record.deployment_hash, {})
            rows.append({
                "process_id": record.process_id,
                "version": record.version,
                "name": record.name,
                "content_hash": record.deployment_hash,
                "created_at": record.created_at,
                "published_by": audit.get("actor"),
                "note": audit.get("note"),
            })  # fmt: skip
        return rows

    def procedures(self) -> list[Procedure]:
        published = self.publications()
        drafts: dict[str, list[Draft]] = {}
        for draft in self.drafts.all():
            drafts.setdefault(draft.process_id, []).append(draft)
        ids = {v.process_id for v in self.engine.versions()} | set(drafts)
        out = []
        for pid in sorted(ids):
            versions = self.versions(pid, published)
            name = versions[0]["name"] if versions else draft_name(drafts[pid][0])
            out.append(Procedure(pid, name or pid, versions, drafts.get(pid, [])))
        return out


def draft_name(draft: Draft) -> str:
    for name, text in sorted(draft.files.items()):
        if kind(name) == "bpmn":
            found = PROCESS_NAME.search(text)
            if found:
                return found.group(1)
    return draft.process_id


def versions_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "created_at": _iso(r["created_at"])} for r in rows]


def _iso(moment: datetime) -> str:
    return moment.isoformat()
