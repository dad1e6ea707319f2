"""演示时钟: the time a demo runs on, the system clock plus a stored offset.

Only ``jiuzhu serve --demo`` builds one; elsewhere the engine runs on the
system clock and the stored offset is never read. The offset lives in the
database (table ``demo_clock``) so that the server, its scheduler thread and
any worker agree; a move is audited on the system chain and then fires what
fell due (公示 ending, 督办 arising), so a newcomer sees a week pass in a click.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, date, datetime, time, timedelta
from threading import Lock

from sqlalchemy.engine import Engine as SqlEngine
from sqlmodel import Session

from engine.clock import SHANGHAI, Clock, SystemClock
from engine.errors import InvalidRequestError, Location
from engine.events import EventDraft
from engine.service.facade import Engine
from integrations.sql.tables import DemoClockRow

ROW = 1


class DemoClock:
    """A ``Clock`` (engine/clock.py) that reads its offset from the database."""

    def __init__(self, sql: SqlEngine, base: Clock | None = None, *, refresh_seconds: float = 1.0) -> None:
        self._sql, self._base = sql, base or SystemClock()
        self._refresh = refresh_seconds
        self._lock = Lock()
        self._cached: tuple[float, timedelta] | None = None

    def offset(self) -> timedelta:
        with self._lock:
            # Monotonic time only throttles re-reads of the stored offset.
            if self._cached is not None and _time.monotonic() - self._cached[0] < self._refresh:
                return self._cached[1]
        offset = timedelta(seconds=self._read())
        with self._lock:
            self._cached = (_time.monotonic(), offset)
        return offset

    def _read(self) -> int:
        # A plain read on a raw connection, outside any transaction: the engine
        # asks the time inside its own write transactions, and on SQLite a
        # second BEGIN (IMMEDIATE) there would wait for the lock the caller holds.
        raw = self._sql.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT offset_seconds FROM demo_clock WHERE id = 1")
            row = cursor.fetchone()
            cursor.close()
            return int(row[0]) if row else 0
        finally:
            raw.close()

    def now(self) -> datetime:
        return self._base.now() + self.offset()

    @property
    def base(self) -> Clock:
        """The clock the offset is added to (sessions run on it)."""
        return self._base

    def set_offset(self, offset: timedelta, *, actor: str | None) -> None:
        with Session(self._sql) as session:
            row = session.get(DemoClockRow, ROW) or DemoClockRow(id=ROW, moved_at=self._base.now())
            row.offset_seconds = int(offset.total_seconds())
            row.moved_at, row.moved_by = self._base.now(), actor
            session.add(row)
            session.commit()
        with self._lock:
            self._cached = None


def target(clock: DemoClock, engine: Engine, how: str, on: str | None) -> datetime:
    """Where a button moves the clock: +1 个工作日, +7 天, or 09:00 of a chosen day."""
    now = clock.now()
    if how == "workday":
        today = now.astimezone(SHANGHAI).date()
        day = engine.calendar().add_working_days(today, 1).date
        return now + timedelta(days=(day - today).days)
    if how == "week":
        return now + timedelta(days=7)
    if how == "date":
        try:
            day = date.fromisoformat(on or "")
        except ValueError:
            raise InvalidRequestError(
                "请填写要跳到的日期（YYYY-MM-DD）", code="DEMO_CLOCK_DATE", location=Location(field="on")
            ) from None
        moment = datetime.combine(day, time(9, 0), SHANGHAI).astimezone(UTC)
        if moment <= now:
            raise InvalidRequestError("演示时钟只能向前拨", code="DEMO_CLOCK_BACKWARDS", location=Location(field="on"))
        return moment
    raise InvalidRequestError(f"未知的拨动方式 {how!r}", code="DEMO_CLOCK_HOW", location=Location(field="how"))


def move(clock: DemoClock, engine: Engine, to: datetime, *, actor: str | None) -> int:
    """Move the demo clock to ``to``, audit it, and fire every timer and SLA check now due."""
    before = clock.now()
    offset = clock.offset() + (to - before)
    clock.set_offset(offset, actor=actor)
    payload = {"from": before.isoformat(), "to": to.isoformat(), "offset_seconds": int(offset.total_seconds())}
    engine.audit_system(EventDraft("demo_clock_moved", payload, actor=actor))
    return engine.fire_due_timers(to)
