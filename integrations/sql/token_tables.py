"""The API token table: per-user and named system tokens for ``/api``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class ApiTokenRow(SQLModel, table=True):
    __tablename__ = "api_token"
    id: str = Field(primary_key=True, max_length=16)  # the token's public prefix
    name: str = Field(max_length=100)
    username: str | None = Field(default=None, index=True)  # None: a system token (acts as system:<name>)
    token_hash: str = Field(max_length=64)  # SHA-256 of the whole token; the token itself is shown once
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
