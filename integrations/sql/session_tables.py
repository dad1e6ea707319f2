"""The web session table: one row per sign-in, so that a session can end on the
server (sign-out, an administrator, a password change, idle or too old) and a
copied cookie ends with it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class WebSessionRow(SQLModel, table=True):
    __tablename__ = "web_session"
    # SHA-256 of the random session id the (signed) cookie carries: a copy of
    # the table does not give anyone a cookie.
    id: str = Field(primary_key=True, max_length=64)
    username: str = Field(index=True)
    address: str = Field(max_length=64)  # the client address at sign-in, for the administrators' list
    created_at: datetime = Field(index=True)
    last_seen_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    reason: str | None = Field(default=None, max_length=32)  # signout, admin, password_changed
