"""The SLA half of a SQL unit of work: clocks, 督办 (supervision), work
calendars and SLA policies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, update

from engine.ports import InstanceRecord
from engine.sla.clocks import SlaClock, clock_from_dict, clock_to_dict
from engine.sla.tracker import OverdueAlert
from integrations.sql.tables import CalendarScheduleRow, OverdueAlertRow, SlaClockRow, SlaPolicyRow
from integrations.sql.times import aware, to_db

C, S, CAL, POL = (
    SlaClockRow.__table__,  # type: ignore[attr-defined]
    OverdueAlertRow.__table__,  # type: ignore[attr-defined]
    CalendarScheduleRow.__table__,  # type: ignore[attr-defined]
    SlaPolicyRow.__table__,  # type: ignore[attr-defined]
)


class SlaRows:
    """Mixed into :class:`integrations.sql.store.SqlUnit`, whose connection it uses."""

    conn: Connection

    if TYPE_CHECKING:

        def get_instance(self, instance_id: str) -> InstanceRecord | None: ...

    def clocks(self, instance_id: str) -> list[SlaClock]:
        rows = self.conn.execute(select(C.c.body).where(C.c.instance_id == instance_id).order_by(C.c.id))
        return [clock_from_dict(json.loads(r.body)) for r in rows]

    def save_clocks(self, instance_id: str, clocks: Sequence[SlaClock]) -> None:
        query = select(C.c.key, C.c.body).where(C.c.instance_id == instance_id)
        existing = {r.key: r.body for r in self.conn.execute(query)}
        for clock in clocks:
            body = json.dumps(clock_to_dict(clock), ensure_ascii=False, sort_keys=True)
            if existing.get(clock.key) == body:
                continue
            check = clock.next_check()
            values = {
                "stage": clock.stage,
                "open": clock.open,
                "provisional": clock.provisional,
                "next_check_at": to_db(check) if check else None,
                "due_at": to_db(clock.due_at),
                "closed_at": to_db(clock.closed_at) if clock.closed_at else None,
                "body": body,
            }
            if clock.key in existing:
                where = (C.c.instance_id == instance_id, C.c.key == clock.key)
                self.conn.execute(update(C).where(*where).values(**values))
            else:
                self.conn.execute(insert(C).values(instance_id=instance_id, key=clock.key, **values))

    def provisional_instances(self) -> list[str]:
        query = select(C.c.instance_id).where(C.c.open.is_(True), C.c.provisional.is_(True))
        return [r.instance_id for r in self.conn.execute(query.group_by(C.c.instance_id))]

    def add_overdue_alerts(self, org_unit: str | None, overdue_alerts: Sequence[OverdueAlert]) -> None:
        if not overdue_alerts:
            return
        rows = [
            {
                "instance_id": s.instance_id,
                "clock_key": s.clock_key,
                "stage": s.stage,
                "name": s.name,
                "role": s.role,
                "org_unit": org_unit,
                "partner": s.partner,
                "due_on": s.due_on,
                "raised_at": to_db(s.raised_at),
            }
            for s in overdue_alerts
        ]
        self.conn.execute(insert(S), rows)

    def resolve_overdue_alerts(self, instance_id: str, clock_keys: Sequence[str], at: datetime) -> None:
        where = (S.c.instance_id == instance_id, S.c.clock_key.in_(clock_keys), S.c.resolved_at.is_(None))
        self.conn.execute(update(S).where(*where).values(resolved_at=to_db(at)))

    def overdue_alerts(
        self,
        *,
        role: str | None = None,
        partner: str | None = None,
        instance_id: str | None = None,
        org_units: Sequence[str] | None = None,
        open_only: bool = True,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        query = select(S).order_by(S.c.raised_at.desc(), S.c.id.desc()).limit(limit)
        for column, value in ((S.c.role, role), (S.c.partner, partner), (S.c.instance_id, instance_id)):
            if value:
                query = query.where(column == value)
        if org_units is not None:
            query = query.where(S.c.org_unit.in_(list(org_units)))
        if open_only:
            query = query.where(S.c.resolved_at.is_(None))
        return [
            {
                "instance_id": r.instance_id,
                "clock": r.clock_key,
                "task_id": r.clock_key.removeprefix("task:") if r.clock_key.startswith("task:") else None,
                "stage": r.stage,
                "name": r.name,
                "role": r.role,
                "org_unit": r.org_unit,
                "partner": r.partner,
                "due_on": r.due_on,
                "raised_at": aware(r.raised_at).isoformat(),
                "resolved_at": aware(r.resolved_at).isoformat() if r.resolved_at else None,
            }
            for r in self.conn.execute(query)
        ]

    def closed_clocks(self, since: datetime, until: datetime) -> list[tuple[InstanceRecord, SlaClock]]:
        query = select(C.c.body, C.c.instance_id).where(C.c.closed_at >= to_db(since), C.c.closed_at < to_db(until))
        out = []
        for r in self.conn.execute(query.order_by(C.c.instance_id)).all():
            record = self.get_instance(r.instance_id)
            if record is not None:
                out.append((record, clock_from_dict(json.loads(r.body))))
        return out

    def add_schedule(
        self, *, year: int, region: str | None, version: str, source: str, body: str, actor: str | None, at: datetime
    ) -> None:
        values = {"year": year, "region": region, "version": version, "source": source, "body": body, "actor": actor}
        self.conn.execute(insert(CAL).values(loaded_at=to_db(at), **values))

    def schedules(self) -> list[tuple[str, str]]:
        return [(r.source, r.body) for r in self.conn.execute(select(CAL.c.source, CAL.c.body).order_by(CAL.c.id))]

    def calendar_generation(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(CAL)).scalar() or 0)

    def add_policy(self, *, policy_id: str, version: str, digest: str, source: str, body: str, at: datetime) -> bool:
        where = (POL.c.policy_id == policy_id, POL.c.version == version, POL.c.digest == digest)
        if self.conn.execute(select(POL.c.id).where(*where)).first():
            return False
        values = {"policy_id": policy_id, "version": version, "digest": digest, "source": source, "body": body}
        self.conn.execute(insert(POL).values(loaded_at=to_db(at), **values))
        return True

    def policies(self) -> list[tuple[str, str]]:
        return [(r.source, r.body) for r in self.conn.execute(select(POL.c.source, POL.c.body).order_by(POL.c.id))]

    def policies_loaded(self) -> list[tuple[str, str, datetime]]:
        """Every policy body as loaded, oldest first, with when: the policies in force at a moment."""
        rows = self.conn.execute(select(POL.c.source, POL.c.body, POL.c.loaded_at).order_by(POL.c.id))
        return [(r.source, r.body, aware(r.loaded_at)) for r in rows]
