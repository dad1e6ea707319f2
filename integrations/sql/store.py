"""SQL implementation of :class:`engine.store.Store`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import Row
from sqlmodel import SQLModel

from engine.audit import AuditEvent
from engine.store import DeploymentRecord, InstanceRecord, TaskRow, TimerRow, VersionRecord
from integrations.sql.tables import (
    AuditEventRow,
    Deployment,
    DeploymentFile,
    Instance,
    ProcessVersion,
    ReadyTask,
    Timer,
)

D, F, V, INST, E, T, R = (
    Deployment.__table__,  # type: ignore[attr-defined]
    DeploymentFile.__table__,  # type: ignore[attr-defined]
    ProcessVersion.__table__,  # type: ignore[attr-defined]
    Instance.__table__,  # type: ignore[attr-defined]
    AuditEventRow.__table__,  # type: ignore[attr-defined]
    Timer.__table__,  # type: ignore[attr-defined]
    ReadyTask.__table__,  # type: ignore[attr-defined]
)


def _db(moment: datetime) -> datetime:
    """Always UTC in the database; people see Beijing time at the edge."""
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def normalize_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_setup(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide where transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # Writers queue at BEGIN instead of failing at their first write
            # with a stale snapshot; readers in WAL mode never wait.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class SqlStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        return cls(make_engine(url))

    def create_schema(self) -> None:
        SQLModel.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def drop_schema(self) -> None:
        SQLModel.metadata.drop_all(self.engine)

    @contextmanager
    def unit(self) -> Iterator[SqlUnit]:
        with self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with conn.begin():
                    yield SqlUnit(conn)
            finally:
                conn.info.pop("write", None)

    @contextmanager
    def reader(self) -> Iterator[SqlUnit]:
        with self.engine.connect() as conn, conn.begin():
            yield SqlUnit(conn)


class SqlUnit:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- deployments -------------------------------------------------------------

    def find_deployment(self, content_hash: str) -> DeploymentRecord | None:
        row = self.conn.execute(select(D).where(D.c.content_hash == content_hash)).first()
        if row is None:
            return None
        files = self.conn.execute(
            select(F.c.name, F.c.content).where(F.c.deployment_hash == content_hash).order_by(F.c.id)
        ).all()
        return DeploymentRecord(
            row.content_hash,
            _aware(row.created_at),
            row.actor,
            tuple((f.name, bytes(f.content)) for f in files),
            tuple(json.loads(row.documentation_only)),
        )

    def add_deployment(self, record: DeploymentRecord, versions: Sequence[VersionRecord]) -> None:
        self.conn.execute(
            insert(D).values(
                content_hash=record.content_hash,
                created_at=_db(record.created_at),
                actor=record.actor,
                documentation_only=json.dumps(list(record.documentation_only), ensure_ascii=False),
            )
        )
        if record.files:
            self.conn.execute(
                insert(F), [{"deployment_hash": record.content_hash, "name": n, "content": c} for n, c in record.files]
            )
        for v in versions:
            self.conn.execute(
                insert(V).values(
                    process_id=v.process_id,
                    version=v.version,
                    deployment_hash=v.deployment_hash,
                    name=v.name,
                    created_at=_db(v.created_at),
                    definition=json.dumps(v.definition, ensure_ascii=False),
                )
            )

    @staticmethod
    def _version(row: Row[Any]) -> VersionRecord:
        return VersionRecord(
            row.process_id,
            row.version,
            row.deployment_hash,
            row.name,
            _aware(row.created_at),
            json.loads(row.definition),
        )

    def latest_version(self, process_id: str) -> VersionRecord | None:
        row = self.conn.execute(
            select(V).where(V.c.process_id == process_id).order_by(V.c.version.desc()).limit(1)
        ).first()
        return self._version(row) if row else None

    def get_version(self, process_id: str, version: int) -> VersionRecord | None:
        row = self.conn.execute(select(V).where(V.c.process_id == process_id, V.c.version == version)).first()
        return self._version(row) if row else None

    def list_versions(self, process_id: str | None = None) -> list[VersionRecord]:
        query = select(V).order_by(V.c.process_id, V.c.version)
        if process_id is not None:
            query = query.where(V.c.process_id == process_id)
        return [self._version(r) for r in self.conn.execute(query)]

    # -- instances -----------------------------------------------------------------

    def add_instance(self, record: InstanceRecord) -> None:
        self.conn.execute(insert(INST).values(**self._instance_values(record)))

    @staticmethod
    def _instance_values(record: InstanceRecord) -> dict[str, Any]:
        return {
            "id": record.id,
            "process_id": record.process_id,
            "version": record.version,
            "status": record.status,
            "state": record.state,
            "revision": record.revision,
            "created_at": _db(record.created_at),
            "updated_at": _db(record.updated_at),
            "started_by": record.started_by,
            "incident": json.dumps(record.incident, ensure_ascii=False) if record.incident else None,
            "event_count": record.event_count,
            "head_hash": record.head_hash,
            "business_key": record.business_key,
        }

    @staticmethod
    def _instance(row: Row[Any]) -> InstanceRecord:
        return InstanceRecord(
            id=row.id,
            process_id=row.process_id,
            version=row.version,
            status=row.status,
            state=row.state,
            revision=row.revision,
            created_at=_aware(row.created_at),
            updated_at=_aware(row.updated_at),
            started_by=row.started_by,
            incident=json.loads(row.incident) if row.incident else None,
            event_count=row.event_count,
            head_hash=row.head_hash,
            business_key=row.business_key,
        )

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        row = self.conn.execute(select(INST).where(INST.c.id == instance_id)).first()
        return self._instance(row) if row else None

    def update_instance(self, record: InstanceRecord, *, expected_revision: int) -> bool:
        values = self._instance_values(record)
        values.pop("id")
        result = self.conn.execute(
            update(INST).where(INST.c.id == record.id, INST.c.revision == expected_revision).values(**values)
        )
        return result.rowcount == 1

    def list_instances(self, *, process_id: str | None, status: str | None, limit: int) -> list[InstanceRecord]:
        query = select(INST).where(INST.c.status != "system").order_by(INST.c.created_at.desc()).limit(limit)
        if process_id:
            query = query.where(INST.c.process_id == process_id)
        if status:
            query = query.where(INST.c.status == status)
        return [self._instance(r) for r in self.conn.execute(query)]

    # -- audit -------------------------------------------------------------------------

    def append_events(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        self.conn.execute(
            insert(E),
            [
                {
                    "chain_id": e.chain_id,
                    "seq": e.seq,
                    "type": e.type,
                    "occurred_at": _db(e.occurred_at),
                    "actor": e.actor,
                    "task_id": e.task_id,
                    "element_id": e.element_id,
                    "body": e.body,
                    "hash": e.hash,
                }
                for e in events
            ],
        )

    def events(self, chain_id: str) -> Iterator[AuditEvent]:
        rows = self.conn.execute(select(E).where(E.c.chain_id == chain_id).order_by(E.c.seq))
        for r in rows:
            yield AuditEvent(
                r.chain_id, r.seq, r.type, _aware(r.occurred_at), r.actor, r.task_id, r.element_id, r.body, r.hash
            )

    def chain_ids(self) -> list[str]:
        return [
            r.id for r in self.conn.execute(select(INST.c.id).where(INST.c.event_count > 0).order_by(INST.c.created_at))
        ]

    # -- timers and ready tasks -------------------------------------------------------------

    def replace_timers(self, instance_id: str, timers: Sequence[TimerRow]) -> None:
        self.conn.execute(delete(T).where(T.c.instance_id == instance_id))
        if timers:
            self.conn.execute(
                insert(T),
                [
                    {
                        "instance_id": t.instance_id,
                        "task_id": t.task_id,
                        "element_id": t.element_id,
                        "due_at": _db(t.due_at),
                    }
                    for t in timers
                ],
            )

    def due_instances(self, now: datetime, limit: int) -> list[str]:
        earliest = func.min(T.c.due_at)
        query = (
            select(T.c.instance_id)
            .join(INST, INST.c.id == T.c.instance_id)
            .where(T.c.due_at <= _db(now), INST.c.status == "running")
            .group_by(T.c.instance_id)
            .order_by(earliest)
            .limit(limit)
        )
        return [r.instance_id for r in self.conn.execute(query)]

    def wakeups(self) -> list[tuple[str, datetime]]:
        earliest = func.min(T.c.due_at).label("earliest")
        rows = self.conn.execute(
            select(T.c.instance_id, earliest)
            .join(INST, INST.c.id == T.c.instance_id)
            .where(INST.c.status == "running")
            .group_by(T.c.instance_id)
        )
        return [(r.instance_id, _aware(r.earliest)) for r in rows]

    def next_due(self) -> datetime | None:
        row = self.conn.execute(select(T.c.due_at).order_by(T.c.due_at).limit(1)).first()
        return _aware(row.due_at) if row else None

    def update_ready_tasks(self, instance_id: str, *, added: Sequence[TaskRow], removed: Sequence[str]) -> None:
        if removed:
            self.conn.execute(delete(R).where(R.c.instance_id == instance_id, R.c.id.in_(list(removed))))
        if added:
            self.conn.execute(
                insert(R),
                [
                    {
                        "id": t.id,
                        "instance_id": t.instance_id,
                        "process_id": t.process_id,
                        "element_id": t.element_id,
                        "name": t.name,
                        "lane": t.lane,
                        "ready_at": _db(t.ready_at),
                    }
                    for t in added
                ],
            )

    def ready_tasks(self, instance_id: str) -> list[TaskRow]:
        rows = self.conn.execute(select(R).where(R.c.instance_id == instance_id).order_by(R.c.ready_at))
        return [
            TaskRow(r.id, r.instance_id, r.process_id, r.element_id, r.name, r.lane, _aware(r.ready_at)) for r in rows
        ]
