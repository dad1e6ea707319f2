"""What a re-execution reads from the database (:class:`engine.replay.CaseRecord`):
the instance row, its events, its deployed version, and every holiday schedule
with the moment it was loaded (which the engine's own port does not give)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from engine.errors import NotFoundError
from engine.ports import Store, VersionRecord
from engine.replay import CaseRecord
from engine.replay_store import ScheduleLoad
from engine.service.core import SYSTEM_CHAIN
from integrations.sql.sla import CAL
from integrations.sql.tables import Instance
from integrations.sql.times import aware

FINISHED = ("completed", "failed", "terminated")
INST = Instance.__table__  # type: ignore[attr-defined]


class CaseReader:
    """Reads cases for replay; the schedules and policies are read once per reader,
    each deployed version once (versions never change)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.reader() as unit:
            conn = unit.conn  # type: ignore[attr-defined]
            rows = conn.execute(select(CAL.c.loaded_at, CAL.c.source, CAL.c.body).order_by(CAL.c.id))
            self.schedules: Sequence[ScheduleLoad] = [ScheduleLoad(aware(r.loaded_at), r.source, r.body) for r in rows]
            self.policies: Sequence[tuple[str, str]] = unit.policies()
        self.versions: dict[tuple[str, int], VersionRecord] = {}

    def case(self, instance_id: str) -> CaseRecord:
        with self.store.reader() as unit:
            record = unit.get_instance(instance_id)
            if record is None or record.id == SYSTEM_CHAIN:
                raise NotFoundError(f"实例 {instance_id} 不存在", code="INSTANCE_NOT_FOUND")
            key = (record.process_id, record.version)
            version = self.versions.get(key) or unit.get_version(*key)
            if version is None:
                raise NotFoundError(f"流程版本 {record.process_id} v{record.version} 缺失", code="VERSION_NOT_FOUND")
            self.versions[key] = version
            events = list(unit.events(instance_id))
        return CaseRecord(record, events, version, self.schedules, self.policies)

    def finished(self) -> list[str]:
        """Every case that has ended (办结, 异常结束, 终止), oldest first."""
        with self.store.reader() as unit:
            conn = unit.conn  # type: ignore[attr-defined]
            query = select(INST.c.id).where(INST.c.status.in_(FINISHED)).order_by(INST.c.created_at, INST.c.id)
            return [r.id for r in conn.execute(query)]
