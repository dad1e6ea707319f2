"""Hand-written statements for the rows every engine step touches.

Building, cache-keying and compiling a SQLAlchemy Core statement costs
50–400 µs before the database sees it; a task completion runs six to eight
of them, which was a third of its time (bench/engine_overhead.py). These
statements go straight to the DB-API cursor of the unit's own connection,
inside the same transaction, and bind exactly what SQLAlchemy would bind:
SQLite gets SQLAlchemy's DATETIME text format, PostgreSQL the UTC datetime.
Everything else in the store stays on SQLAlchemy Core.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from engine.audit import AuditEvent
from engine.ports import InstanceRecord, TaskRow, TimerRow
from engine.runtime.task_facts import TaskFacts, mask_id
from integrations.sql.times import read_time, sqlite_time

INSTANCE_COLUMNS = (
    "id", "process_id", "version", "status", "state", "revision", "created_at", "updated_at", "started_by",
    "incident", "event_count", "head_hash", "business_key", "org_unit", "region", "policy",
)  # fmt: skip
_UPDATED = INSTANCE_COLUMNS[1:]
EVENT_COLUMNS = ("chain_id", "seq", "type", "occurred_at", "actor", "task_id", "element_id", "body", "hash")
FACT_COLUMNS = (
    "org_unit", "business_key", "applicant_name", "id_masked", "id_suffix", "partner", "stage", "due_at", "warn_at",
    "paused", "provisional", "due_unit", "due_region",
)  # fmt: skip
TASK_COLUMNS = ("id", "instance_id", "process_id", "element_id", "name", "lane", "ready_at", "assignee", *FACT_COLUMNS)
TIMER_COLUMNS = ("instance_id", "task_id", "element_id", "due_at")


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_SQL = {
    "select_instance": f"SELECT {', '.join(INSTANCE_COLUMNS)} FROM instance WHERE id = ?",
    "update_instance": f"UPDATE instance SET {', '.join(c + ' = ?' for c in _UPDATED)} WHERE id = ? AND revision = ?",
    "insert_instance": _insert("instance", INSTANCE_COLUMNS),
    "insert_event": _insert("audit_event", EVENT_COLUMNS),
    "delete_timers": "DELETE FROM timer WHERE instance_id = ?",
    "insert_timer": _insert("timer", TIMER_COLUMNS),
    "insert_task": _insert("ready_task", TASK_COLUMNS),
    "select_task": "SELECT id, instance_id, process_id, element_id, name, lane, ready_at, assignee, org_unit, "
    "business_key, applicant_name, partner, stage, due_at, warn_at, paused, provisional, due_unit, due_region "
    "FROM ready_task WHERE id = ?",
    "refresh_facts": f"UPDATE ready_task SET {', '.join(c + ' = ?' for c in FACT_COLUMNS)} WHERE id = ?",
}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class HotPath:
    """The statements above, in the paramstyle of one dialect."""

    def __init__(self, dialect_name: str, paramstyle: str) -> None:
        self.sqlite = dialect_name == "sqlite"
        self.time = sqlite_time if self.sqlite else _utc
        self.placeholder = "?" if paramstyle == "qmark" else "%s"
        self.sql = {name: self._dialect(text) for name, text in _SQL.items()}
        if not self.sqlite:
            self.sql["select_instance_for_update"] = self.sql["select_instance"] + " FOR UPDATE"

    def _dialect(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    @staticmethod
    def _run(conn: Connection, sql: str, params: Sequence[Any], *, many: bool = False) -> Any:
        """Execute on the unit's DB-API connection; driver errors come out as
        SQLAlchemy's (DataError, IntegrityError…), as from any other statement."""
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if many:
                cur.executemany(sql, params)
            else:
                cur.execute(sql, params)
        except conn.dialect.loaded_dbapi.Error as exc:
            cur.close()
            raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error) from exc
        return cur

    # -- instances -------------------------------------------------------------

    def _instance_params(self, r: InstanceRecord) -> list[Any]:
        incident = json.dumps(r.incident, ensure_ascii=False) if r.incident else None
        return [
            r.process_id, r.version, r.status, r.state, r.revision, self.time(r.created_at), self.time(r.updated_at),
            r.started_by, incident, r.event_count, r.head_hash, r.business_key, r.org_unit, r.region, r.policy,
        ]  # fmt: skip

    def get_instance(self, conn: Connection, instance_id: str, *, lock: bool) -> InstanceRecord | None:
        sql = self.sql["select_instance_for_update" if lock and not self.sqlite else "select_instance"]
        cur = self._run(conn, sql, (instance_id,))
        row = cur.fetchone()
        cur.close()
        if row is None:
            return None
        (iid, pid, version, status, state, revision, created, updated, started_by, incident, count, head,
         business_key, org_unit, region, policy) = row  # fmt: skip
        return InstanceRecord(
            iid, pid, version, status, state, revision, read_time(created), read_time(updated), started_by,
            json.loads(incident) if incident else None, count, head, business_key, org_unit, region, policy,
        )  # fmt: skip

    def add_instance(self, conn: Connection, record: InstanceRecord) -> None:
        self._run(conn, self.sql["insert_instance"], [record.id, *self._instance_params(record)]).close()

    def update_instance(self, conn: Connection, record: InstanceRecord, *, expected_revision: int) -> bool:
        params = [*self._instance_params(record), record.id, expected_revision]
        cur = self._run(conn, self.sql["update_instance"], params)
        changed: int = cur.rowcount
        cur.close()
        return changed == 1

    # -- audit events, timers, ready tasks ----------------------------------------

    def append_events(self, conn: Connection, events: Sequence[AuditEvent]) -> None:
        rows = [
            (e.chain_id, e.seq, e.type, self.time(e.occurred_at), e.actor, e.task_id, e.element_id, e.body, e.hash)
            for e in events
        ]
        self._many(conn, "insert_event", rows)

    def replace_timers(self, conn: Connection, instance_id: str, timers: Sequence[TimerRow]) -> None:
        self._run(conn, self.sql["delete_timers"], (instance_id,)).close()
        rows = [(t.instance_id, t.task_id, t.element_id, self.time(t.due_at)) for t in timers]
        self._many(conn, "insert_timer", rows)

    def update_ready_tasks(
        self, conn: Connection, instance_id: str, *, added: Sequence[TaskRow], removed: Sequence[str]
    ) -> None:
        if removed:
            marks = ", ".join([self.placeholder] * len(removed))
            sql = f"DELETE FROM ready_task WHERE instance_id = {self.placeholder} AND id IN ({marks})"
            self._run(conn, sql, (instance_id, *removed)).close()
        rows = [
            (t.id, t.instance_id, t.process_id, t.element_id, t.name, t.lane, self.time(t.ready_at), t.assignee)
            + self._facts(t.facts)
            for t in added
        ]
        self._many(conn, "insert_task", rows)

    def get_ready_task(self, conn: Connection, task_id: str) -> TaskRow | None:
        cur = self._run(conn, self.sql["select_task"], (task_id,))
        row = cur.fetchone()
        cur.close()
        if row is None:
            return None
        (tid, iid, pid, element, name, lane, ready_at, assignee, org_unit, business_key, applicant, partner, stage,
         due_at, warn_at, paused, provisional, due_unit, due_region) = row  # fmt: skip
        facts = TaskFacts(
            org_unit=org_unit, business_key=business_key, applicant_name=applicant, partner=partner, stage=stage,
            due_at=read_time(due_at) if due_at else None, warn_at=read_time(warn_at) if warn_at else None,
            paused=bool(paused), provisional=bool(provisional), due_unit=due_unit, due_region=due_region,
        )  # fmt: skip
        return TaskRow(tid, iid, pid, element, name, lane, read_time(ready_at), facts, assignee)

    def refresh_task_facts(self, conn: Connection, facts: Mapping[str, TaskFacts]) -> None:
        self._many(conn, "refresh_facts", [(*self._facts(f), task_id) for task_id, f in facts.items()])

    def _facts(self, f: TaskFacts) -> tuple[Any, ...]:
        due = self.time(f.due_at) if f.due_at else None
        warn = self.time(f.warn_at) if f.warn_at else None
        who = (f.applicant_name, mask_id(f.id_number), f.id_suffix)
        when = (due, warn, f.paused, f.provisional, f.due_unit, f.due_region)
        return (f.org_unit, f.business_key, *who, f.partner, f.stage, *when)

    def _many(self, conn: Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if len(rows) == 1:
            self._run(conn, self.sql[statement], rows[0]).close()
        else:
            self._run(conn, self.sql[statement], rows, many=True).close()
