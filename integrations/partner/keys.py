"""Partner API keys: ``jzp_<id>_<secret>``, stored as SHA-256 (a 256-bit random
secret needs no slow hash), shown once. Rotating keeps the old key valid for an
overlap so a partner can roll its systems over; revoking ends it at once."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import insert, select, update

from engine.errors import NotFoundError, UnauthorizedError
from engine.events import EventDraft
from engine.ports import Unit
from engine.service.facade import Engine
from integrations.sql.partner_tables import PartnerKeyRow

K = PartnerKeyRow.__table__  # type: ignore[attr-defined]
ORG_UNITS = Path(__file__).resolve().parents[2] / "demo" / "org_units.json"


def conn(unit: Unit) -> Any:
    """The SQL connection of a unit: partner tables ride on the engine's transaction."""
    return cast(Any, unit).conn


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def department_of(name_or_code: str, org_units: Path = ORG_UNITS) -> str:
    """A department by its catalogue name (供电公司) or its org unit code (qinghe.partner.power)."""
    units = json.loads(org_units.read_text(encoding="utf-8")) if org_units.exists() else []
    units = units["org_units"] if isinstance(units, dict) else units
    for unit in units:
        if unit.get("kind") == "partner" and name_or_code in (unit.get("code"), unit.get("department")):
            return str(unit["department"])
    raise NotFoundError(f"没有联办部门「{name_or_code}」", code="PARTNER_NOT_FOUND")


@dataclass(frozen=True)
class Partner:
    department: str
    key_id: str


def _now(engine: Engine) -> datetime:
    return engine.clock.now()


def create(engine: Engine, department: str, *, actor: str | None) -> str:
    key_id = secrets.token_hex(6)
    key = f"jzp_{key_id}_{secrets.token_urlsafe(32)}"
    row = {"id": key_id, "department": department, "key_hash": _hash(key), "created_at": _now(engine)}
    payload = {"department": department, "key_id": key_id}
    engine.audit_system(
        EventDraft("partner_key_created", payload, actor=actor), lambda u: conn(u).execute(insert(K).values(**row))
    )
    return key


def rotate(engine: Engine, department: str, *, overlap: timedelta, actor: str | None) -> str:
    """A new key; the department's current keys stay valid for ``overlap`` (0: revoked now)."""
    now = _now(engine)
    ends = now + overlap

    def expire(unit: Unit) -> None:
        live = (K.c.department == department, K.c.revoked_at.is_(None))
        if overlap <= timedelta(0):
            conn(unit).execute(update(K).where(*live).values(revoked_at=now))
        else:
            soon = K.c.expires_at.is_(None) | (K.c.expires_at > ends)
            conn(unit).execute(update(K).where(*live, soon).values(expires_at=ends))

    payload = {"department": department, "old_keys_valid_until": ends.isoformat()}
    engine.audit_system(EventDraft("partner_keys_rotated", payload, actor=actor), expire)
    return create(engine, department, actor=actor)


def revoke(engine: Engine, department: str, *, actor: str | None) -> int:
    now = _now(engine)
    count = 0

    def stop(unit: Unit) -> None:
        nonlocal count
        live = (K.c.department == department, K.c.revoked_at.is_(None))
        unexpired = K.c.expires_at.is_(None) | (K.c.expires_at > now)
        count = conn(unit).execute(update(K).where(*live, unexpired).values(revoked_at=now)).rowcount

    engine.audit_system(EventDraft("partner_keys_revoked", {"department": department}, actor=actor), stop)
    return count


def authenticate(engine: Engine, key: str | None) -> Partner:
    parts = (key or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "jzp":
        raise UnauthorizedError("缺少或格式错误的联办部门 API 密钥", code="PARTNER_KEY_INVALID")
    with engine.store.reader() as unit:
        row = conn(unit).execute(select(K).where(K.c.id == parts[1])).first()
    now = _now(engine)
    valid = (
        row is not None
        and secrets.compare_digest(row.key_hash, _hash(key or ""))
        and row.revoked_at is None
        and (row.expires_at is None or aware(row.expires_at) > now)
    )
    if not valid or row is None:
        raise UnauthorizedError("联办部门 API 密钥无效、已过期或已吊销", code="PARTNER_KEY_INVALID")
    return Partner(row.department, row.id)


def aware(moment: datetime) -> datetime:
    """Rows come back naive from SQLite: they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
