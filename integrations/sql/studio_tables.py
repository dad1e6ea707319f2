"""The designer studio's drafts: one per procedure and designer, its files as
JSON ``{name: text}``. A draft is never a published version: publishing
deploys its files as a new immutable version and the draft goes on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel


class StudioDraftRow(SQLModel, table=True):
    __tablename__ = "studio_draft"
    __table_args__ = (UniqueConstraint("process_id", "designer"),)
    id: int | None = Field(default=None, primary_key=True)
    process_id: str = Field(max_length=64, index=True)
    designer: str = Field(max_length=64)
    files: str = Field(sa_column=Column(Text, nullable=False))  # JSON object: file name -> text
    base_version: int | None = None  # the deployed version the draft started from (None: a new procedure)
    revision: int = 0  # every save adds one; a save naming an older revision is refused
    created_at: datetime
    updated_at: datetime
