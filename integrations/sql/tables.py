"""Tables. The database is the source of truth; Redis (when present) only
accelerates look-ups that can always be rebuilt from these rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Index, LargeBinary, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel


class Deployment(SQLModel, table=True):
    __tablename__ = "deployment"
    content_hash: str = Field(primary_key=True, max_length=64)
    created_at: datetime
    actor: str | None = None
    documentation_only: str = Field(sa_column=Column(Text, nullable=False))  # JSON list


class DeploymentFile(SQLModel, table=True):
    __tablename__ = "deployment_file"
    id: int | None = Field(default=None, primary_key=True)
    deployment_hash: str = Field(index=True, foreign_key="deployment.content_hash", max_length=64)
    name: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ProcessVersion(SQLModel, table=True):
    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("process_id", "version"),
        UniqueConstraint("process_id", "deployment_hash"),
    )
    id: int | None = Field(default=None, primary_key=True)
    process_id: str = Field(index=True)
    version: int
    deployment_hash: str = Field(foreign_key="deployment.content_hash", max_length=64)
    name: str
    created_at: datetime
    definition: str = Field(sa_column=Column(Text, nullable=False))  # JSON, specs stored once per version


class Instance(SQLModel, table=True):
    __tablename__ = "instance"
    __table_args__ = (Index("ix_instance_process_status", "process_id", "status"),)
    id: str = Field(primary_key=True, max_length=36)
    process_id: str
    version: int
    status: str = Field(max_length=16)
    state: str = Field(sa_column=Column(Text, nullable=False))
    revision: int
    created_at: datetime
    updated_at: datetime
    started_by: str | None = None
    incident: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    event_count: int = 0
    head_hash: str = Field(default="", max_length=64)
    business_key: str | None = Field(default=None, index=True)
    org_unit: str | None = Field(default=None, index=True)
    region: str | None = None
    policy: str | None = None  # "policy-id@version" in force since the start


class ApplicantCase(SQLModel, table=True):
    """The applicant 身份证号 of each case, indexed: a new application finds an
    open one for the same person without opening any instance."""

    __tablename__ = "applicant_case"
    __table_args__ = (
        Index("ix_applicant_case_lookup", "process_id", "id_number"),
        # The database, not only the check before the insert, refuses a second
        # open application: of two starts racing for one 身份证号, one commits.
        # Only the rows that block take part; see ``blocking``.
        Index(
            "ux_applicant_case_open",
            "process_id",
            "id_number",
            unique=True,
            sqlite_where=text("blocking"),
            postgresql_where=text("blocking"),
        ),
    )
    instance_id: str = Field(primary_key=True, max_length=36)
    process_id: str
    id_number: str = Field(max_length=32)
    # True while the case is open and its procedure allows one open application
    # per applicant (start event ``oneOpenApplication``); the case's end clears it.
    blocking: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class AuditEventRow(SQLModel, table=True):
    """Append-only: the store never updates or deletes these rows."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    chain_id: str = Field(max_length=36)
    seq: int
    type: str = Field(max_length=40)
    occurred_at: datetime
    actor: str | None = None
    task_id: str | None = None
    element_id: str | None = None
    body: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=64)


class Timer(SQLModel, table=True):
    __tablename__ = "timer"
    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(index=True, max_length=36)
    task_id: str = Field(max_length=36)
    element_id: str
    due_at: datetime = Field(index=True)


class ReadyTask(SQLModel, table=True):
    """The task index, denormalised for the inbox: one indexed query lists a
    user's tasks with applicant and deadline, without opening any instance."""

    __tablename__ = "ready_task"
    __table_args__ = (
        Index("ix_ready_task_scope", "org_unit", "lane", "due_at"),
        Index("ix_ready_task_assignee", "assignee", "due_at"),
        Index("ix_ready_task_partner", "partner", "lane", "due_at"),
    )
    id: str = Field(primary_key=True, max_length=36)
    instance_id: str = Field(index=True, max_length=36)
    process_id: str
    element_id: str
    name: str
    lane: str | None = Field(default=None, index=True)
    ready_at: datetime
    assignee: str | None = None
    org_unit: str | None = None
    business_key: str | None = None
    applicant_name: str | None = None
    id_masked: str | None = Field(default=None, max_length=32)
    id_suffix: str | None = Field(default=None, max_length=4)
    partner: str | None = None
    stage: str | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    paused: bool = False
    provisional: bool = False
    # The unit due_at's clock counts in; rows older than the column count working days.
    due_unit: str = Field(default="working_days", max_length=16, sa_column_kwargs={"server_default": "working_days"})
    due_region: str | None = None  # the region whose working days that clock counts


class SlaClockRow(SQLModel, table=True):
    __tablename__ = "sla_clock"
    __table_args__ = (UniqueConstraint("instance_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(index=True, max_length=36)
    key: str = Field(max_length=48)
    stage: str
    open: bool = Field(index=True)
    provisional: bool
    next_check_at: datetime | None = Field(default=None, index=True)
    due_at: datetime
    closed_at: datetime | None = None
    body: str = Field(sa_column=Column(Text, nullable=False))  # the whole Clock as JSON


OVERDUE_ALERT_KEY = "uq_supervision_target"


class OverdueAlertRow(SQLModel, table=True):
    """督办 records: raised when a limit is overdue, one per role it goes to;
    ``partner`` is the 联办 department whose task is late (its supervisor's
    list is filtered by it)."""

    __tablename__ = "supervision"
    __table_args__ = (UniqueConstraint("instance_id", "clock_key", "due_on", "role", name=OVERDUE_ALERT_KEY),)
    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(index=True, max_length=36)
    clock_key: str = Field(max_length=48)
    stage: str
    name: str
    role: str | None = Field(default=None, index=True)
    org_unit: str | None = Field(default=None, index=True)
    partner: str | None = Field(default=None, index=True)
    due_on: str
    raised_at: datetime
    resolved_at: datetime | None = None


class CalendarScheduleRow(SQLModel, table=True):
    __tablename__ = "calendar_schedule"
    id: int | None = Field(default=None, primary_key=True)
    year: int
    region: str | None = None
    version: str
    loaded_at: datetime
    actor: str | None = None
    source: str
    body: str = Field(sa_column=Column(Text, nullable=False))


class SlaPolicyRow(SQLModel, table=True):
    __tablename__ = "sla_policy"
    __table_args__ = (UniqueConstraint("policy_id", "version", "digest"),)
    id: int | None = Field(default=None, primary_key=True)
    policy_id: str
    version: str
    digest: str = Field(max_length=16)
    source: str
    loaded_at: datetime
    body: str = Field(sa_column=Column(Text, nullable=False))


class FormDraftRow(SQLModel, table=True):
    """A user's unfinished form data for a task (one per task and user); not validated, not audited."""

    __tablename__ = "form_draft"
    __table_args__ = (UniqueConstraint("task_id", "username"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(max_length=36)
    username: str = Field(max_length=64, index=True)
    instance_id: str | None = Field(default=None, max_length=36, index=True)
    saved_at: datetime
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON object


class OrgUnitRow(SQLModel, table=True):
    __tablename__ = "org_unit"
    code: str = Field(primary_key=True)
    name: str
    kind: str = Field(max_length=24)
    parent: str | None = None
    region: str | None = None
    department: str | None = None


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_account"
    username: str = Field(primary_key=True, max_length=64)
    display_name: str
    roles: str  # space-separated role codes
    org_unit: str = Field(index=True)
    password_hash: str
    active: bool = True


class DemoClockRow(SQLModel, table=True):
    """The demo clock's offset over the system clock (one row, ``jiuzhu serve --demo`` only),
    stored so that every server and worker process of a demo agrees on the time."""

    __tablename__ = "demo_clock"
    id: int = Field(primary_key=True)
    offset_seconds: int = 0
    moved_at: datetime
    moved_by: str | None = None
