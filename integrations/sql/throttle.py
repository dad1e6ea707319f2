"""Login throttling on the database, so every API process of a scaled-out
deployment counts the same failures: after ``max_failures`` within the
window for a (username, client address), sign-in is refused until the window
passes. Time is the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select
from sqlmodel import Field, SQLModel

from engine.clock import Clock


class LoginFailureRow(SQLModel, table=True):
    __tablename__ = "login_failure"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, max_length=100)
    address: str = Field(max_length=64)
    failed_at: datetime = Field(index=True)


F = LoginFailureRow.__table__  # type: ignore[attr-defined]


class SqlLoginThrottle:
    def __init__(self, engine: Engine, clock: Clock, *, max_failures: int, window_seconds: float) -> None:
        self.engine, self.clock = engine, clock
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC)  # UTC in the database, as every table

    def blocked(self, username: str, address: str) -> bool:
        since = self._now() - self.window
        query = select(func.count()).where(F.c.username == username, F.c.address == address, F.c.failed_at > since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one()) >= self.max_failures

    def failed(self, username: str, address: str) -> None:
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(delete(F).where(F.c.failed_at <= now - self.window))  # the window has passed for these
            conn.execute(insert(F).values(username=username, address=address, failed_at=now))

    def succeeded(self, username: str, address: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(F).where(F.c.username == username, F.c.address == address))
