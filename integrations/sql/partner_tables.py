"""Tables of the partner channel: API keys, handoffs with their leases, the
webhook outbox and idempotency records. Leases and deliveries live here; Redis
only wakes the waiters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class PartnerKeyRow(SQLModel, table=True):
    __tablename__ = "partner_key"
    id: str = Field(primary_key=True, max_length=16)  # the key's public prefix
    department: str = Field(index=True)
    key_hash: str = Field(max_length=64)  # SHA-256 of the whole key; the key itself is shown once
    created_at: datetime
    expires_at: datetime | None = None  # set when rotated: the overlap ends here
    revoked_at: datetime | None = None


class PartnerEndpointRow(SQLModel, table=True):
    __tablename__ = "partner_endpoint"
    department: str = Field(primary_key=True)
    url: str
    secret: str  # HMAC key: must be readable to sign, so it cannot be hashed
    created_at: datetime


class HandoffRow(SQLModel, table=True):
    """One partner task (签收 or 办理) of one 联办 item."""

    __tablename__ = "handoff"
    id: str = Field(primary_key=True, max_length=36)  # the task id
    instance_id: str = Field(index=True, max_length=36)
    element_id: str
    item_code: str = Field(index=True)
    department: str = Field(index=True)
    status: str = Field(index=True, max_length=16)  # open, completed, returned, cancelled
    round: int
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON, minimised
    created_at: datetime
    lease_token: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = Field(default=None, index=True)
    closed_at: datetime | None = None


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    id: str = Field(primary_key=True, max_length=36)  # the event id receivers deduplicate on
    handoff_id: str = Field(index=True, max_length=36)
    instance_id: str = Field(max_length=36)
    department: str = Field(index=True)
    type: str = Field(max_length=32)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    status: str = Field(index=True, max_length=16)  # pending, delivered, dead
    attempts: int = 0
    next_attempt_at: datetime = Field(index=True)
    claimed_until: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "idempotency"
    __table_args__ = (UniqueConstraint("department", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    department: str
    key: str = Field(max_length=200)
    body_hash: str = Field(max_length=64)
    status_code: int
    response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
