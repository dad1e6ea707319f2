"""Statements for firing a batch of instances in one transaction (engine.service.firing).

Straight to the DB-API cursor of the unit's connection, inside its
transaction: a batch is a few statements whatever its size, and building
SQLAlchemy Core statements per row would cost more than running them.
Values are bound as SQLAlchemy binds them (SQLite: its DATETIME text;
PostgreSQL: the UTC datetime), so rows read the same either way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from engine.ports import InstanceRecord, TimerRow
from integrations.sql.times import read_time, sqlite_time

_COLUMNS = (
    "id", "process_id", "version", "status", "state", "revision", "created_at", "updated_at", "started_by",
    "incident", "event_count", "head_hash", "business_key", "org_unit", "region", "policy",
)  # fmt: skip
# What a step may change; the rest of the row is fixed at the start.
_STEP_COLUMNS = ("status", "state", "revision", "updated_at", "incident", "event_count", "head_hash")


class BatchStatements:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"

    def _cursor(self) -> Any:
        return self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def _time(self, moment: datetime) -> Any:
        return sqlite_time(moment) if self.sqlite else moment.astimezone(UTC)

    def _in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        if self.sqlite:
            return f"{column} IN ({', '.join('?' * len(values))})", list(values)
        return f"{column} = ANY(%s)", [list(values)]

    def lock_instances(self, instance_ids: Sequence[str]) -> list[InstanceRecord]:
        if not instance_ids:
            return []
        where, params = self._in("id", instance_ids)
        # SQLite: the transaction already holds the database (BEGIN IMMEDIATE).
        lock = "" if self.sqlite else " FOR UPDATE SKIP LOCKED"
        cur = self._cursor()
        try:
            cur.execute(f"SELECT {', '.join(_COLUMNS)} FROM instance WHERE {where}{lock}", params)
            rows = cur.fetchall()
        finally:
            cur.close()
        out = []
        for row in rows:
            values = dict(zip(_COLUMNS, row, strict=True))
            values["created_at"] = read_time(values["created_at"])
            values["updated_at"] = read_time(values["updated_at"])
            values["incident"] = json.loads(values["incident"]) if values["incident"] else None
            out.append(InstanceRecord(**values))
        return out

    def update_instances(self, changes: Sequence[tuple[InstanceRecord, int]]) -> set[str]:
        if not changes:
            return set()
        m = self.mark
        sql = f"UPDATE instance SET {', '.join(f'{c} = {m}' for c in _STEP_COLUMNS)} WHERE id = {m} AND revision = {m}"
        rows = [
            (
                r.status,
                r.state,
                r.revision,
                self._time(r.updated_at),
                json.dumps(r.incident, ensure_ascii=False) if r.incident else None,
                r.event_count,
                r.head_hash,
                r.id,
                expected,
            )
            for r, expected in changes
        ]
        won: set[str] = set()
        cur = self._cursor()
        try:
            if self.sqlite:  # in-process: a statement per row costs microseconds
                for row in rows:
                    cur.execute(sql, row)
                    if cur.rowcount == 1:
                        won.add(row[-2])
            else:  # one pipelined round trip; each row's own result says if it won
                cur.executemany(sql + " RETURNING id", rows, returning=True)
                while True:
                    hit = cur.fetchone()
                    if hit is not None:
                        won.add(hit[0])
                    if not cur.nextset():
                        break
        finally:
            cur.close()
        return won

    def replace_timers_of(self, instance_ids: Sequence[str], timers: Sequence[TimerRow]) -> None:
        if not instance_ids:
            return
        where, params = self._in("instance_id", instance_ids)
        m = self.mark
        cur = self._cursor()
        try:
            cur.execute(f"DELETE FROM timer WHERE {where}", params)
            if timers:
                cur.executemany(
                    f"INSERT INTO timer (instance_id, task_id, element_id, due_at) VALUES ({m}, {m}, {m}, {m})",
                    [(t.instance_id, t.task_id, t.element_id, self._time(t.due_at)) for t in timers],
                )
        finally:
            cur.close()
