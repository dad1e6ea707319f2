"""Login throttling on the database, so every API process of a scaled-out
deployment counts the same failures. Two keys: after ``max_failures`` for
one account within the window (from any address: an attacker who varies the
address, or forges it, still runs into the account's limit), or
``address_max_failures`` from one address (for any accounts: guessing one
password across many accounts), sign-in is refused until the window passes.
Time is the injected clock."""

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


def _keys(username: str, address: str) -> tuple[str, str]:
    return username[:100], address[:64]  # as stored: a longer name counts as its stored prefix


class SqlLoginThrottle:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        max_failures: int,
        window_seconds: float,
        address_max_failures: int | None = None,
    ) -> None:
        self.engine, self.clock = engine, clock
        self.max_failures = max_failures
        self.address_max_failures = address_max_failures
        self.window = timedelta(seconds=window_seconds)

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC)  # UTC in the database, as every table

    def blocked(self, username: str, address: str) -> bool:
        username, address = _keys(username, address)
        since = self._now() - self.window
        recent = select(func.count()).where(F.c.failed_at > since)
        with self.engine.connect() as conn:
            if int(conn.execute(recent.where(F.c.username == username)).scalar_one()) >= self.max_failures:
                return True
            if self.address_max_failures is None:
                return False
            return int(conn.execute(recent.where(F.c.address == address)).scalar_one()) >= self.address_max_failures

    def failed(self, username: str, address: str) -> None:
        username, address = _keys(username, address)
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(delete(F).where(F.c.failed_at <= now - self.window))  # the window has passed for these
            conn.execute(insert(F).values(username=username, address=address, failed_at=now))

    def succeeded(self, username: str, address: str) -> None:
        # Only this address's own mistakes are forgiven: failures from elsewhere
        # keep counting against the account until the window passes.
        username, address = _keys(username, address)
        with self.engine.begin() as conn:
            conn.execute(delete(F).where(F.c.username == username, F.c.address == address))
