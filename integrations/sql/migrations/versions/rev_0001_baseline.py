"""Baseline: the schema of the last release before Alembic, written out.

Revision ID: 0001
Revises:
Create Date: 2026-12-07

On a new database this creates every table. On a database made by a release
before Alembic (tables present, no ``alembic_version``) it does what those
releases did at start-up and makes only what is missing: see
:mod:`integrations.sql.migrations.pre_alembic`. Never edit a revision once
released; add a new one (``make migration m="…"``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from integrations.sql.migrations import pre_alembic

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _overdue_alert() -> list[Any]:
    """Fresh objects each call: a column belongs to one table."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("clock_key", sa.String(length=48), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("org_unit", sa.String(), nullable=True),
        sa.Column("partner", sa.String(), nullable=True),
        sa.Column("due_on", sa.String(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "clock_key", "due_on", "role", name=pre_alembic.OVERDUE_ALERT_KEY),
    ]


def upgrade() -> None:
    a = pre_alembic.Adopter()
    a.table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=True),
        sa.Column("task_id", sa.String(), nullable=True),
        sa.Column("element_id", sa.String(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "seq"),
    )
    a.table(
        "calendar_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    a.table(
        "deployment",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=True),
        sa.Column("documentation_only", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("content_hash"),
    )
    a.table(
        "form_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "username"),
    )
    a.index("ix_form_draft_instance_id", "form_draft", ["instance_id"])
    a.index("ix_form_draft_username", "form_draft", ["username"])

    a.table(
        "handoff",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(), nullable=False),
        sa.Column("item_code", sa.String(), nullable=False),
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_token", sa.String(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    a.index("ix_handoff_department", "handoff", ["department"])
    a.index("ix_handoff_instance_id", "handoff", ["instance_id"])
    a.index("ix_handoff_item_code", "handoff", ["item_code"])
    a.index("ix_handoff_lease_until", "handoff", ["lease_until"])
    a.index("ix_handoff_status", "handoff", ["status"])

    a.table(
        "idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("department", "key"),
    )
    a.table(
        "instance",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("process_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(), nullable=True),
        sa.Column("incident", sa.Text(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("business_key", sa.String(), nullable=True),
        sa.Column("org_unit", sa.String(), nullable=True),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("policy", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    a.index("ix_instance_business_key", "instance", ["business_key"])
    a.index("ix_instance_org_unit", "instance", ["org_unit"])
    a.index("ix_instance_process_status", "instance", ["process_id", "status"])

    a.table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    a.index("ix_login_failure_failed_at", "login_failure", ["failed_at"])
    a.index("ix_login_failure_username", "login_failure", ["username"])

    a.table(
        "org_unit",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("parent", sa.String(), nullable=True),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("department", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    a.table(
        "outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("handoff_id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    a.index("ix_outbox_department", "outbox", ["department"])
    a.index("ix_outbox_handoff_id", "outbox", ["handoff_id"])
    a.index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])
    a.index("ix_outbox_status", "outbox", ["status"])

    a.table(
        "partner_endpoint",
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("secret", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("department"),
    )
    a.table(
        "partner_key",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    a.index("ix_partner_key_department", "partner_key", ["department"])

    a.table(
        "ready_task",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("process_id", sa.String(), nullable=False),
        sa.Column("element_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("lane", sa.String(), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(), nullable=True),
        sa.Column("org_unit", sa.String(), nullable=True),
        sa.Column("business_key", sa.String(), nullable=True),
        sa.Column("applicant_name", sa.String(), nullable=True),
        sa.Column("id_masked", sa.String(length=32), nullable=True),
        sa.Column("id_suffix", sa.String(length=4), nullable=True),
        sa.Column("partner", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    a.index("ix_ready_task_assignee", "ready_task", ["assignee", "due_at"])
    a.index("ix_ready_task_instance_id", "ready_task", ["instance_id"])
    a.index("ix_ready_task_lane", "ready_task", ["lane"])
    a.index("ix_ready_task_partner", "ready_task", ["partner", "lane", "due_at"])
    a.index("ix_ready_task_scope", "ready_task", ["org_unit", "lane", "due_at"])

    a.table(
        "sla_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "key"),
    )
    a.index("ix_sla_clock_instance_id", "sla_clock", ["instance_id"])
    a.index("ix_sla_clock_next_check_at", "sla_clock", ["next_check_at"])
    a.index("ix_sla_clock_open", "sla_clock", ["open"])

    a.table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("digest", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_id", "version", "digest"),
    )
    a.table("supervision", *_overdue_alert())
    pre_alembic.rekey_overdue_alerts(a, sa.Table("supervision", sa.MetaData(), *_overdue_alert()))
    a.index("ix_supervision_instance_id", "supervision", ["instance_id"])
    a.index("ix_supervision_org_unit", "supervision", ["org_unit"])
    a.index("ix_supervision_partner", "supervision", ["partner"])
    a.index("ix_supervision_role", "supervision", ["role"])

    a.table(
        "timer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    a.index("ix_timer_due_at", "timer", ["due_at"])
    a.index("ix_timer_instance_id", "timer", ["instance_id"])

    a.table(
        "user_account",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("roles", sa.String(), nullable=False),
        sa.Column("org_unit", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    a.index("ix_user_account_org_unit", "user_account", ["org_unit"])

    a.table(
        "deployment_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_hash"],
            ["deployment.content_hash"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    a.index("ix_deployment_file_deployment_hash", "deployment_file", ["deployment_hash"])

    a.table(
        "process_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deployment_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_hash"],
            ["deployment.content_hash"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_id", "deployment_hash"),
        sa.UniqueConstraint("process_id", "version"),
    )
    a.index("ix_process_version_process_id", "process_version", ["process_id"])


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
