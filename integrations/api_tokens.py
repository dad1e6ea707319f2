"""API tokens for ``/api``: ``jzt_<id>_<secret>``, each a user's (acts as that
user) or a named system token (acts as ``system:<name>``, for integrations).

Stored as SHA-256 of the whole token, compared in constant time. A slow hash
(argon2, as for passwords) guards low-entropy secrets against guessing from a
stolen table; a token's secret is 256 random bits, so nothing can be guessed
and a fast hash keeps every API call cheap. The token is shown once, at
creation. Creation and revocation are events on the system audit chain.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import insert, select, update

from engine.errors import ConflictError, InvalidRequestError, NotFoundError, UnauthorizedError
from engine.events import EventDraft
from engine.ports import Unit
from engine.service.facade import Engine
from integrations.sql.times import aware, to_db
from integrations.sql.token_tables import ApiTokenRow

T = ApiTokenRow.__table__  # type: ignore[attr-defined]
PREFIX = "jzt"
NAME_LIMIT = 100
# Recording every use would put a write on every API call: once a minute is
# precise enough for "last used" and keeps reads reads.
LAST_USED_GRANULARITY = timedelta(minutes=1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    username: str | None  # None: a system token
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def system(self) -> bool:
        return self.username is None

    @property
    def principal(self) -> str:
        """The audit actor of calls made with the token."""
        return self.username if self.username is not None else f"system:{self.name}"


def _conn(unit: Unit) -> Any:
    return cast(Any, unit).conn


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        row.username,
        aware(row.created_at),
        row.created_by,
        aware(row.last_used_at) if row.last_used_at else None,
        aware(row.revoked_at) if row.revoked_at else None,
        row.revoked_by,
    )


def checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_LIMIT or _CONTROL.search(name):
        message = f"令牌名称须为 1 至 {NAME_LIMIT} 个字符，且不含控制字符"
        raise InvalidRequestError(message, code="API_TOKEN_NAME_INVALID")
    return name


def create(engine: Engine, *, name: str, username: str | None, actor: str) -> tuple[TokenInfo, str]:
    """A new token for ``username`` (None: a system token named ``name``), and
    the token itself, which is not stored and cannot be shown again."""
    name = checked_name(name)
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    now = engine.clock.now()
    row = {
        "id": token_id,
        "name": name,
        "username": username,
        "token_hash": _hash(token),
        "created_at": to_db(now),
        "created_by": actor,
    }
    payload: dict[str, Any] = {"token_id": token_id, "name": name}
    payload.update({"username": username} if username is not None else {"system": True})

    def write(unit: Unit) -> None:
        if username is None:
            live = (T.c.username.is_(None), T.c.name == name, T.c.revoked_at.is_(None))
            if _conn(unit).execute(select(T.c.id).where(*live)).first() is not None:
                # Two live system tokens of one name would make system:<name> ambiguous in the audit log.
                raise ConflictError(f"已有名为「{name}」的有效系统令牌", code="API_TOKEN_NAME_TAKEN")
        _conn(unit).execute(insert(T).values(**row))

    engine.audit_system(EventDraft("api_token_created", payload, actor=actor), write)
    info = TokenInfo(token_id, name, username, now, actor, None, None, None)
    return info, token


def find(engine: Engine, token_id: str) -> TokenInfo | None:
    with engine.store.reader() as unit:
        row = _conn(unit).execute(select(T).where(T.c.id == token_id)).first()
    return _info(row) if row is not None else None


def listing(engine: Engine, *, username: str | None = None, system: bool = False) -> list[TokenInfo]:
    """Tokens, newest first: one user's, the system tokens, or (neither) all."""
    query = select(T).order_by(T.c.created_at.desc(), T.c.id)
    if username is not None:
        query = query.where(T.c.username == username)
    elif system:
        query = query.where(T.c.username.is_(None))
    with engine.store.reader() as unit:
        return [_info(r) for r in _conn(unit).execute(query)]


def revoke(engine: Engine, token_id: str, *, actor: str) -> TokenInfo:
    """Revoke at once; revoking a revoked token changes nothing and records nothing."""
    info = find(engine, token_id)
    if info is None:
        raise NotFoundError("没有这个 API 令牌", code="API_TOKEN_NOT_FOUND")
    if info.revoked_at is not None:
        return info
    now = engine.clock.now()
    payload: dict[str, Any] = {"token_id": token_id, "name": info.name}
    payload.update({"username": info.username} if info.username is not None else {"system": True})

    def write(unit: Unit) -> None:
        live = (T.c.id == token_id, T.c.revoked_at.is_(None))
        _conn(unit).execute(update(T).where(*live).values(revoked_at=to_db(now), revoked_by=actor))

    engine.audit_system(EventDraft("api_token_revoked", payload, actor=actor), write)
    found = find(engine, token_id)
    assert found is not None
    return found


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX + "_")


def authenticate(engine: Engine, token: str) -> TokenInfo:
    """The live token ``token`` is, or 401."""
    parts = token.split("_", 2)
    refused = UnauthorizedError("API 令牌无效或已吊销", code="API_TOKEN_INVALID")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise refused
    with engine.store.reader() as unit:
        row = _conn(unit).execute(select(T).where(T.c.id == parts[1])).first()
    if row is None or not secrets.compare_digest(row.token_hash, _hash(token)) or row.revoked_at is not None:
        raise refused
    info = _info(row)
    now = engine.clock.now()
    if info.last_used_at is None or now - info.last_used_at >= LAST_USED_GRANULARITY:
        with engine.store.unit() as unit:
            _conn(unit).execute(update(T).where(T.c.id == info.id).values(last_used_at=to_db(now)))
    return info
