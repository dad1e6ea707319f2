"""SQL implementation of :class:`engine.ports.Store`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Row
from sqlmodel import SQLModel

from engine.audit import AuditEvent
from engine.ports import DeploymentRecord, InstanceRecord, TaskRow, TimerRow, VersionRecord
from engine.runtime.task_facts import TaskFacts
from integrations.sql import migrations
from integrations.sql.applicants import ApplicantRows
from integrations.sql.batch import BatchStatements
from integrations.sql.budget import DbBudget, budgeted
from integrations.sql.connect import make_engine
from integrations.sql.hotpath import HotPath
from integrations.sql.sla import C, SlaRows
from integrations.sql.tables import (
    AuditEventRow,
    Deployment,
    DeploymentFile,
    Instance,
    ProcessVersion,
    ReadyTask,
    Timer,
)
from integrations.sql.times import aware, to_db

D, F, V, INST, E, T, R = (
    Deployment.__table__,  # type: ignore[attr-defined]
    DeploymentFile.__table__,  # type: ignore[attr-defined]
    ProcessVersion.__table__,  # type: ignore[attr-defined]
    Instance.__table__,  # type: ignore[attr-defined]
    AuditEventRow.__table__,  # type: ignore[attr-defined]
    Timer.__table__,  # type: ignore[attr-defined]
    ReadyTask.__table__,  # type: ignore[attr-defined]
)


class SqlStore:
    def __init__(self, engine: Engine, budget: DbBudget | None = None) -> None:
        self.engine = engine
        self.budget = budget or DbBudget()
        self.hot = HotPath(engine.dialect.name, engine.dialect.paramstyle)

    @classmethod
    def from_url(cls, url: str, budget: DbBudget | None = None) -> SqlStore:
        return cls(make_engine(url, budget), budget)

    def create_schema(self) -> None:
        """Bring the schema to the newest revision (see :mod:`integrations.sql.migrations`):
        made at once for a new database, migrated for an older one, untouched if current."""
        migrations.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def drop_schema(self) -> None:
        SQLModel.metadata.drop_all(self.engine)
        with self.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

    @contextmanager
    def unit(self) -> Iterator[SqlUnit]:
        with self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                # The budget starts once BEGIN has the lock: waiting for it holds nothing.
                with conn.begin(), budgeted(conn, self.budget):
                    yield SqlUnit(conn, self.hot)
            finally:
                conn.info.pop("write", None)

    @contextmanager
    def reader(self) -> Iterator[SqlUnit]:
        with self.engine.connect() as conn, conn.begin():
            yield SqlUnit(conn, self.hot)


class SqlUnit(SlaRows, ApplicantRows):
    def __init__(self, conn: Connection, hot: HotPath | None = None) -> None:
        self.conn = conn
        self.hot = hot or HotPath(conn.dialect.name, conn.dialect.paramstyle)

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
            aware(row.created_at),
            row.actor,
            tuple((f.name, bytes(f.content)) for f in files),
            tuple(json.loads(row.documentation_only)),
        )

    def add_deployment(self, record: DeploymentRecord, versions: Sequence[VersionRecord]) -> None:
        self.conn.execute(
            insert(D).values(
                content_hash=record.content_hash,
                created_at=to_db(record.created_at),
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
                    created_at=to_db(v.created_at),
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
            aware(row.created_at),
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
        self.hot.add_instance(self.conn, record)

    @staticmethod
    def _instance(row: Row[Any]) -> InstanceRecord:
        return InstanceRecord(
            id=row.id,
            process_id=row.process_id,
            version=row.version,
            status=row.status,
            state=row.state,
            revision=row.revision,
            created_at=aware(row.created_at),
            updated_at=aware(row.updated_at),
            started_by=row.started_by,
            incident=json.loads(row.incident) if row.incident else None,
            event_count=row.event_count,
            head_hash=row.head_hash,
            business_key=row.business_key,
            org_unit=row.org_unit,
            region=row.region,
            policy=row.policy,
        )

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        # Writers of one instance queue at the row lock instead of both
        # computing a step and one losing the revision race (PostgreSQL;
        # SQLite already serialises writers at BEGIN IMMEDIATE).
        return self.hot.get_instance(self.conn, instance_id, lock=bool(self.conn.info.get("write")))

    def update_instance(self, record: InstanceRecord, *, expected_revision: int) -> bool:
        won = self.hot.update_instance(self.conn, record, expected_revision=expected_revision)
        if won:
            self._release_ended([record])
        return won

    def list_instances(
        self,
        *,
        process_id: str | None,
        status: str | None,
        limit: int,
        org_units: Sequence[str] | None = None,
        offset: int = 0,
    ) -> list[InstanceRecord]:
        # The scope is part of the query, so a page holds ``limit`` visible cases.
        order = (INST.c.created_at.desc(), INST.c.id.desc())
        query = select(INST).where(INST.c.status != "system").order_by(*order).limit(limit).offset(offset)
        if process_id:
            query = query.where(INST.c.process_id == process_id)
        if status:
            query = query.where(INST.c.status == status)
        if org_units is not None:
            query = query.where(INST.c.org_unit.in_(list(org_units)))
        return [self._instance(r) for r in self.conn.execute(query)]

    # -- audit -------------------------------------------------------------------------

    def append_events(self, events: Sequence[AuditEvent]) -> None:
        self.hot.append_events(self.conn, events)

    def events(self, chain_id: str) -> Iterator[AuditEvent]:
        rows = self.conn.execute(select(E).where(E.c.chain_id == chain_id).order_by(E.c.seq))
        for r in rows:
            yield AuditEvent(
                r.chain_id, r.seq, r.type, aware(r.occurred_at), r.actor, r.task_id, r.element_id, r.body, r.hash
            )

    def chain_ids(self) -> list[str]:
        # From both sides: an instance whose row was deleted still has events,
        # and the verdict on it must say so.
        heads = select(INST.c.id.label("chain_id")).where(INST.c.event_count > 0)
        logged = select(E.c.chain_id.label("chain_id")).distinct()
        return sorted(r.chain_id for r in self.conn.execute(heads.union(logged)))

    # -- timers and ready tasks -------------------------------------------------------------

    def replace_timers(self, instance_id: str, timers: Sequence[TimerRow]) -> None:
        self.hot.replace_timers(self.conn, instance_id, timers)

    def due_instances(self, now: datetime, limit: int) -> list[str]:
        moment = to_db(now)
        timers = (
            select(T.c.instance_id.label("instance_id"), T.c.due_at.label("at"))
            .join(INST, INST.c.id == T.c.instance_id)
            .where(T.c.due_at <= moment, INST.c.status == "running")
        )
        clocks = select(C.c.instance_id.label("instance_id"), C.c.next_check_at.label("at")).where(
            C.c.next_check_at <= moment
        )
        due = union_all(timers, clocks).subquery()
        query = select(due.c.instance_id).group_by(due.c.instance_id).order_by(func.min(due.c.at)).limit(limit)
        return [r.instance_id for r in self.conn.execute(query)]

    def wakeups(self) -> list[tuple[str, datetime]]:
        timers = (
            select(T.c.instance_id.label("instance_id"), T.c.due_at.label("at"))
            .join(INST, INST.c.id == T.c.instance_id)
            .where(INST.c.status == "running")
        )
        clocks = select(C.c.instance_id.label("instance_id"), C.c.next_check_at.label("at")).where(
            C.c.next_check_at.is_not(None)
        )
        due = union_all(timers, clocks).subquery()
        rows = self.conn.execute(select(due.c.instance_id, func.min(due.c.at).label("at")).group_by(due.c.instance_id))
        return [(r.instance_id, aware(r.at)) for r in rows]

    def next_due(self) -> datetime | None:
        timers = (
            select(func.min(T.c.due_at))
            .join(INST, INST.c.id == T.c.instance_id)
            .where(INST.c.status == "running")
            .scalar_subquery()
        )
        clocks = select(func.min(C.c.next_check_at)).scalar_subquery()
        moments = [m for m in self.conn.execute(select(timers, clocks)).one() if m is not None]
        return aware(min(moments)) if moments else None

    def update_ready_tasks(self, instance_id: str, *, added: Sequence[TaskRow], removed: Sequence[str]) -> None:
        self.hot.update_ready_tasks(self.conn, instance_id, added=added, removed=removed)

    def refresh_task_facts(self, facts: Mapping[str, TaskFacts]) -> None:
        self.hot.refresh_task_facts(self.conn, facts)

    @staticmethod
    def _task(r: Row[Any]) -> TaskRow:
        facts = TaskFacts(
            org_unit=r.org_unit,
            business_key=r.business_key,
            applicant_name=r.applicant_name,
            partner=r.partner,
            stage=r.stage,
            due_at=aware(r.due_at) if r.due_at else None,
            warn_at=aware(r.warn_at) if r.warn_at else None,
            paused=bool(r.paused),
            provisional=bool(r.provisional),
            due_unit=r.due_unit,
            due_region=r.due_region,
        )
        return TaskRow(
            r.id, r.instance_id, r.process_id, r.element_id, r.name, r.lane, aware(r.ready_at), facts, r.assignee
        )

    def ready_tasks(self, instance_id: str) -> list[TaskRow]:
        rows = self.conn.execute(select(R).where(R.c.instance_id == instance_id).order_by(R.c.ready_at))
        return [self._task(r) for r in rows]

    def get_ready_task(self, task_id: str) -> TaskRow | None:
        return self.hot.get_ready_task(self.conn, task_id)

    def set_assignee(self, task_id: str, assignee: str | None) -> None:
        self.conn.execute(update(R).where(R.c.id == task_id).values(assignee=assignee))

    # -- a batch of timer firings (engine.service.firing) ---------------------------------------

    def lock_instances(self, instance_ids: Sequence[str]) -> list[InstanceRecord]:
        return BatchStatements(self.conn).lock_instances(instance_ids)

    def update_instances(self, changes: Sequence[tuple[InstanceRecord, int]]) -> set[str]:
        won = BatchStatements(self.conn).update_instances(changes)
        self._release_ended([r for r, _ in changes if r.id in won])
        return won

    def replace_timers_of(self, instance_ids: Sequence[str], timers: Sequence[TimerRow]) -> None:
        BatchStatements(self.conn).replace_timers_of(instance_ids, timers)
