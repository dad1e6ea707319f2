"""The applicant 身份证号 of each case and the one-open-application rule's
database side: a partial unique index (``ux_applicant_case_open``) on the rows
that block, so that of two starts racing for one applicant only one commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from engine.ports import InstanceRecord
from engine.runtime.run import ACTIVE_STATES
from integrations.sql.tables import ApplicantCase, Instance

APPLICANT = ApplicantCase.__table__  # type: ignore[attr-defined]
INST = Instance.__table__  # type: ignore[attr-defined]
OPEN_STATES = sorted(ACTIVE_STATES)
OPEN_INDEX = "ux_applicant_case_open"


class ApplicantRows:
    """Mixed into :class:`integrations.sql.store.SqlUnit`, whose connection it uses."""

    conn: Connection

    if TYPE_CHECKING:

        @staticmethod
        def _instance(row: Row[Any]) -> InstanceRecord: ...

    def add_applicant_case(self, instance_id: str, process_id: str, id_number: str, *, blocking: bool) -> bool:
        row = {"instance_id": instance_id, "process_id": process_id, "id_number": id_number, "blocking": blocking}
        return self._unique_held(insert(APPLICANT).values(row))

    def applicant_of(self, instance_id: str) -> str | None:
        query = select(APPLICANT.c.id_number).where(APPLICANT.c.instance_id == instance_id)
        found: str | None = self.conn.execute(query).scalar_one_or_none()
        return found

    def move_applicant_case(self, instance_id: str, id_number: str) -> bool:
        statement = update(APPLICANT).where(APPLICANT.c.instance_id == instance_id).values(id_number=id_number)
        return self._unique_held(statement)

    def _unique_held(self, statement: Any) -> bool:
        """Run ``statement`` in a savepoint; False if the open-application index
        refused it (the transaction goes on, so the caller can name the holder).
        On PostgreSQL a concurrent insert of the same key waits for the other
        transaction and fails once it commits; SQLite serialises writers anyway."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(statement)
        except IntegrityError as refused:
            if refused_by_open_index(refused):
                return False
            raise
        return True

    def _release_ended(self, records: Sequence[InstanceRecord]) -> None:
        """A case that ended (any end, terminated, failed) no longer blocks a new application."""
        ended = [r.id for r in records if r.status not in OPEN_STATES]
        if ended:
            statement = update(APPLICANT).where(APPLICANT.c.instance_id.in_(ended), APPLICANT.c.blocking)
            self.conn.execute(statement.values(blocking=False))

    def open_cases_of(self, process_id: str, id_number: str) -> list[InstanceRecord]:
        joined = INST.join(APPLICANT, APPLICANT.c.instance_id == INST.c.id)
        query = (
            select(INST)
            .select_from(joined)
            .where(APPLICANT.c.process_id == process_id, APPLICANT.c.id_number == id_number)
            .where(INST.c.status.in_(OPEN_STATES))
            .order_by(INST.c.created_at, INST.c.id)
        )
        return [self._instance(r) for r in self.conn.execute(query)]


def refused_by_open_index(error: IntegrityError) -> bool:
    """The unique index on open applications, by name (PostgreSQL) or by its columns (SQLite)."""
    text = str(error.orig)
    return OPEN_INDEX in text or "applicant_case.process_id, applicant_case.id_number" in text
