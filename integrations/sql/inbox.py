"""The inbox query: one indexed SQL query over the ready-task index (scope,
lane or assignee, deadline order), never a scan of instance state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, case, func, literal, or_, select

from integrations.ports import InboxPage, InboxQuery, InboxRow
from integrations.sql.store import R
from integrations.sql.times import aware, to_db

COLUMNS = (
    R.c.id,
    R.c.instance_id,
    R.c.process_id,
    R.c.element_id,
    R.c.name,
    R.c.lane,
    R.c.ready_at,
    R.c.assignee,
    R.c.org_unit,
    R.c.business_key,
    R.c.applicant_name,
    R.c.id_masked,
    R.c.stage,
    R.c.due_at,
    R.c.due_unit,
    R.c.due_region,
)


def state_expr(now: Any) -> ColumnElement[str]:
    moment = to_db(now)
    return case(
        (R.c.paused.is_(True), literal("paused")),
        (R.c.due_at.is_(None), literal("none")),
        (R.c.due_at <= moment, literal("overdue")),
        (and_(R.c.warn_at.is_not(None), R.c.warn_at <= moment), literal("warning")),
        (R.c.provisional.is_(True), literal("provisional")),
        else_=literal("on_time"),
    )


def visible(q: InboxQuery) -> list[ColumnElement[bool]]:
    """Who sees a task: unclaimed in one of my lanes, or claimed by me; always
    within my org scope (or my partner department)."""
    mine = R.c.assignee == q.me
    open_to_me: ColumnElement[bool] = R.c.assignee.is_(None)
    if q.lanes is not None:
        open_to_me = and_(open_to_me, R.c.lane.in_(q.lanes))
    where = [{"mine": mine, "unclaimed": open_to_me}.get(q.view, or_(open_to_me, mine))]
    if q.partner is not None:
        where.append(R.c.partner == q.partner)
    elif q.scope is not None:
        where.append(R.c.org_unit.in_(q.scope))
    if q.org_unit:
        where.append(or_(R.c.org_unit == q.org_unit, R.c.org_unit.like(q.org_unit + ".%")))
    if q.process_id:
        where.append(R.c.process_id == q.process_id)
    if q.search:
        text = q.search.strip()
        found = [R.c.applicant_name.like(f"%{text}%"), R.c.business_key == text]
        if len(text) == 4:
            found.append(R.c.id_suffix == text.upper())
        where.append(or_(*found))
    return where


class SqlInbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def query(self, q: InboxQuery) -> InboxPage:
        state = state_expr(q.now).label("state")
        where = visible(q)
        order = {"due": R.c.due_at, "ready": R.c.ready_at, "process": R.c.process_id}[q.sort]
        ordered = order.desc() if q.descending else order.asc()
        rows_query = select(*COLUMNS, state).where(*where)
        if q.state:
            rows_query = rows_query.where(state_expr(q.now) == q.state)
        rows_query = (
            rows_query.order_by(ordered.nulls_last(), R.c.id).limit(q.page_size).offset((q.page - 1) * q.page_size)
        )
        states = select(state).where(*where).subquery()
        counts_query = select(states.c.state, func.count()).group_by(states.c.state)
        with self.engine.connect() as conn:
            rows = conn.execute(rows_query).all()
            counts = {r[0]: int(r[1]) for r in conn.execute(counts_query)}
        total = counts.get(q.state, 0) if q.state else sum(counts.values())
        return InboxPage([_row(r) for r in rows], total, counts)


def _row(r: Any) -> InboxRow:
    return InboxRow(
        r.id,
        r.instance_id,
        r.process_id,
        r.element_id,
        r.name,
        r.lane,
        aware(r.ready_at),
        r.assignee,
        r.org_unit,
        r.business_key,
        r.applicant_name,
        r.id_masked,
        r.stage,
        aware(r.due_at) if r.due_at else None,
        r.state,
        r.due_unit,
        r.due_region,
    )
