"""Web sessions on the server: a sign-in is a row in ``web_session``, and the
signed cookie carries only a random session id (256 bits), stored as its
SHA-256. A session ends when its user signs out, when an administrator ends
it, when the user's password changes, after ``idle`` without a request, or
``max_age`` after sign-in, whichever comes first; a cookie copied before then
is worth nothing after. Ending sessions is an event on the system audit chain.

Each page request costs one lookup by primary key (joined with the account),
and ``last_seen_at`` is written at most once a minute per session.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, insert, select, update

from engine.clock import Clock
from engine.errors import ConflictError
from engine.events import EventDraft
from engine.ports import Unit
from engine.service.facade import Engine
from integrations.ports import User
from integrations.sql.session_tables import WebSessionRow
from integrations.sql.tables import UserAccount
from integrations.sql.times import aware, to_db

S = WebSessionRow.__table__  # type: ignore[attr-defined]
U = UserAccount.__table__  # type: ignore[attr-defined]
LAST_SEEN_GRANULARITY = timedelta(minutes=1)
AUDIT_ATTEMPTS = 5
# Why a session was ended, in the audit payload and on the administrators' page.
REASONS = {"signout": "退出登录", "admin": "管理员终止", "password_changed": "修改密码"}


@dataclass(frozen=True)
class SessionInfo:
    id: str  # the SHA-256 of the cookie's session id, never the id itself
    username: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    reason: str | None = None

    @property
    def short(self) -> str:
        """Enough of the id to tell sessions apart in a list or the audit log."""
        return self.id[:12]


def _conn(unit: Unit) -> Any:
    return cast(Any, unit).conn


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _info(row: Any) -> SessionInfo:
    return SessionInfo(
        row.id,
        row.username,
        row.address,
        aware(row.created_at),
        aware(row.last_seen_at),
        aware(row.revoked_at) if row.revoked_at else None,
        row.revoked_by,
        row.reason,
    )


class SessionBook:
    """The sessions of one database, on ``clock`` (the wall clock, not a demo's)."""

    def __init__(self, engine: Engine, clock: Clock, *, idle: timedelta, max_age: timedelta) -> None:
        self.engine, self.clock = engine, clock
        self.idle, self.max_age = idle, max_age

    def start(self, username: str, address: str) -> str:
        """A new session for ``username``; returns the id the cookie carries."""
        token = secrets.token_urlsafe(32)
        now = to_db(self.clock.now())
        row = {"id": _hash(token), "username": username, "address": address[:64]}
        with self.engine.store.unit() as unit:
            # Sessions past their absolute limit can never be used again: keep the table small.
            _conn(unit).execute(delete(S).where(S.c.created_at < now - self.max_age - timedelta(days=1)))
            _conn(unit).execute(insert(S).values(**row, created_at=now, last_seen_at=now))
        return token

    def _live(self, info: SessionInfo, now: datetime) -> bool:
        if info.revoked_at is not None:
            return False
        return now - info.created_at < self.max_age and now - info.last_seen_at < self.idle

    def resolve(self, token: str) -> tuple[SessionInfo, User] | None:
        """The live session ``token`` names and its account, or None."""
        query = select(S, U.c.display_name, U.c.roles, U.c.org_unit, U.c.active).join(U, U.c.username == S.c.username)
        with self.engine.store.reader() as unit:
            row = _conn(unit).execute(query.where(S.c.id == _hash(token))).first()
        if row is None:
            return None
        info, now = _info(row), self.clock.now()
        if not self._live(info, now) or not row.active:
            return None
        if now - info.last_seen_at >= LAST_SEEN_GRANULARITY:
            with self.engine.store.unit() as unit:
                _conn(unit).execute(update(S).where(S.c.id == info.id).values(last_seen_at=to_db(now)))
        return info, User(info.username, row.display_name, tuple(row.roles.split()), row.org_unit, "", True)

    def find(self, session_id: str) -> SessionInfo | None:
        with self.engine.store.reader() as unit:
            row = _conn(unit).execute(select(S).where(S.c.id == session_id)).first()
        return _info(row) if row is not None else None

    def live(self, username: str | None = None) -> list[SessionInfo]:
        """Sessions that still let someone in, most recently used first."""
        now = self.clock.now()
        query = select(S).where(
            S.c.revoked_at.is_(None),
            S.c.created_at > to_db(now - self.max_age),
            S.c.last_seen_at > to_db(now - self.idle),
        )
        if username is not None:
            query = query.where(S.c.username == username)
        with self.engine.store.reader() as unit:
            rows = _conn(unit).execute(query.order_by(S.c.last_seen_at.desc(), S.c.id)).all()
        return [_info(r) for r in rows]

    def end(self, session_id: str, *, actor: str, reason: str) -> SessionInfo | None:
        """End one session; ending an ended (or unknown) one changes and records nothing."""
        info = self.find(session_id)
        if info is None or info.revoked_at is not None:
            return info
        self._revoke(info.username, [info.id], actor=actor, reason=reason)
        return self.find(session_id)

    def end_all(self, username: str, *, actor: str, reason: str, keep: str | None = None) -> int:
        """End every live session of ``username`` but ``keep`` (a session id); returns how many."""
        ids = [s.id for s in self.live(username) if s.id != keep]
        if ids:
            self._revoke(username, ids, actor=actor, reason=reason)
        return len(ids)

    def _revoke(self, username: str, ids: list[str], *, actor: str, reason: str) -> None:
        now = to_db(self.clock.now())
        payload = {"username": username, "sessions": [i[:12] for i in ids], "reason": reason}

        def write(unit: Unit) -> None:
            live = (S.c.id.in_(ids), S.c.revoked_at.is_(None))
            _conn(unit).execute(update(S).where(*live).values(revoked_at=now, revoked_by=actor, reason=reason))

        self._audited(EventDraft("web_session_revoked", payload, actor=actor), write)

    def _audited(self, draft: EventDraft, write: Callable[[Unit], None]) -> None:
        # The system chain is appended optimistically: two sign-outs at the same
        # moment (PostgreSQL) make one of them conflict. A sign-out must not fail
        # for that; the whole transaction is simply tried again.
        for attempt in range(AUDIT_ATTEMPTS):
            try:
                self.engine.audit_system(draft, write)
                return
            except ConflictError:
                if attempt == AUDIT_ATTEMPTS - 1:
                    raise

    def change_password(self, username: str, password_hash: str, *, actor: str, keep: str | None = None) -> int:
        """Store a new password hash and end every other session of the user, in
        one transaction with its audit event; returns how many sessions ended.
        ``keep``: the session the change was made in, which goes on."""
        now = to_db(self.clock.now())
        payload: dict[str, Any] = {"username": username, "reason": "password_changed"}
        ended: list[str] = []

        def write(unit: Unit) -> None:
            conn = _conn(unit)
            ended.clear()  # a retried transaction starts again
            conn.execute(update(U).where(U.c.username == username).values(password_hash=password_hash))
            live = (S.c.username == username, S.c.revoked_at.is_(None), S.c.id != (keep or ""))
            ended.extend(r.id for r in conn.execute(select(S.c.id).where(*live)))
            if ended:
                conn.execute(
                    update(S)
                    .where(S.c.id.in_(ended), S.c.revoked_at.is_(None))
                    .values(revoked_at=now, revoked_by=actor, reason="password_changed")
                )
            payload["sessions"] = [i[:12] for i in ended]  # the event is appended after write, in the transaction

        self._audited(EventDraft("password_changed", payload, actor=actor), write)
        return len(ended)
