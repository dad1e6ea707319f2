"""How long one transaction may hold the database.

A write transaction holds SQLite's one write lock (and, on PostgreSQL, the
instance's row lock) for as long as the step runs in Python: a runaway step
would make every other writer wait and then fail. So every unit of work runs
under a budget:

* a watchdog guard (:mod:`engine.sandbox.interrupt`) from ``BEGIN`` on: past
  ``transaction_seconds`` it cancels the statement running (SQLite's
  ``interrupt()``, psycopg's ``cancel()``) and interrupts the Python running
  the step; the transaction rolls back and the caller gets
  :class:`TransactionTimeout` (503), never a lock held for everyone;
* on PostgreSQL, ``statement_timeout`` and ``idle_in_transaction_session_timeout``
  on every connection, so the server itself ends what the watchdog cannot
  reach (a process frozen in C, a client gone);
* on SQLite, a bounded busy timeout, longer than the budget, so a writer
  queued behind a runaway step outlasts it and then writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from engine.errors import TransactionTimeout
from engine.sandbox.interrupt import WATCHDOG, Interrupted, Watchdog, wall_deadline

__all__ = ["DbBudget", "TransactionTimeout", "budgeted"]


@dataclass(frozen=True)
class DbBudget:
    transaction_seconds: float = 10.0  # 0: no watchdog
    busy_seconds: float = 20.0  # SQLite: how long a writer waits for the lock
    idle_in_transaction_seconds: float = 60.0  # PostgreSQL: a transaction left open by a stuck client

    def postgres_options(self) -> str:
        """libpq ``options``: the server-side timeouts of every connection."""
        parts = []
        if self.transaction_seconds > 0:
            parts.append(f"-c statement_timeout={int(self.transaction_seconds * 1000)}")
        if self.idle_in_transaction_seconds > 0:
            parts.append(f"-c idle_in_transaction_session_timeout={int(self.idle_in_transaction_seconds * 1000)}")
        return " ".join(parts)


def _canceller(conn: Connection) -> Any:
    dbapi = conn.connection.dbapi_connection
    if dbapi is None:
        return None
    if conn.dialect.name == "sqlite":
        return dbapi.interrupt
    return getattr(dbapi, "cancel_safe", None) or getattr(dbapi, "cancel", None)


# PostgreSQL's own ends of a transaction: statement_timeout, idle_in_transaction_session_timeout.
SERVER_TIMEOUTS = frozenset({"57014", "25P03"})


def _server_timeout(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in SERVER_TIMEOUTS


def timeout_error(budget: DbBudget, reason: str = "budget") -> TransactionTimeout:
    if reason == "shutdown":
        return TransactionTimeout(
            "服务正在停止，本次操作已中止并回滚，未写入任何内容；请稍后重试", code="SHUTTING_DOWN"
        )
    return TransactionTimeout(
        f"本次操作在数据库事务中运行超过 {budget.transaction_seconds:g} 秒，已中止并回滚，未写入任何内容；"
        "其他办理不受影响。请检查该案件的流程模型与数据，或联系管理员"
    )


@contextmanager
def budgeted(conn: Connection, budget: DbBudget, watchdog: Watchdog = WATCHDOG) -> Iterator[None]:
    """Run the body of an open transaction under the budget; over it, raise :class:`TransactionTimeout`.

    The guard is released before the caller commits, so an interrupt never
    lands in the commit; a body that finished just past the budget is rolled
    back all the same (the caller's transaction sees the exception).
    """
    if budget.transaction_seconds <= 0:
        yield
        return
    guard = watchdog.guard(wall_deadline(budget.transaction_seconds), _canceller(conn))
    try:
        try:
            yield
        finally:
            watchdog.release(guard)
        if guard.fired:
            raise Interrupted
    except BaseException as exc:
        if guard.fired or _server_timeout(exc):  # interrupted, or what the cancelled statement raised
            raise timeout_error(budget, guard.reason) from exc
        raise
