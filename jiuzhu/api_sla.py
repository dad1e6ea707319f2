"""HTTP routes for SLA state, supervision, reports and the working-day calendar."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field

from engine.clock import SHANGHAI
from engine.service.facade import ClockStatus, Engine
from engine.sla.clocks import STATE_LABELS
from engine.workcal.view import schedule_for_year
from jiuzhu import timefmt
from jiuzhu.api_common import Actor, Caller, instance_json
from jiuzhu.api_hygiene import FIRST_DAY, LAST_DAY, REASON_LIMIT, TEXT_LIMIT, Day, JsonObject, errors
from jiuzhu.overdue_alerts import overdue_alerts_for


class ExtendRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=REASON_LIMIT, description="延期理由")
    approver: str = Field(min_length=1, max_length=TEXT_LIMIT, description="批准人")
    approver_role: str = Field(min_length=1, max_length=TEXT_LIMIT, description="批准人角色，须与时限政策规定一致")


class ClockAnswer(BaseModel):
    """One time limit of a case, as ``GET /api/instances/{id}/sla`` answers it."""

    clock: str = Field(description="计时键：overall 或 task:<任务ID>")
    stage: str
    name: str
    task_id: str | None
    element_id: str | None
    started_at: str
    limit: int
    unit: Literal["working_days", "natural_days"] = Field(
        description="时限与 days_left 的计量单位：working_days 工作日，natural_days 自然日（如公示、补正）"
    )
    due_on: str = Field(description="到期日（北京时间，当日 24:00 届满）")
    due_at: str
    warn_at: str | None
    days_left: int | None = Field(description="按 unit 计的剩余天数，负数为已超期；已结束的计时为 null")
    state: str
    state_label: str
    provisional: bool
    extended: bool
    paused: bool
    paused_days: int
    escalate_to: list[str]
    due_from: str | None
    partner: str | None
    policy: str
    calendar_version: str
    closed_at: str | None


def clock_json(status: ClockStatus) -> dict[str, Any]:
    c = status.clock
    return {
        "clock": c.key,
        "stage": c.stage,
        "name": c.name,
        "task_id": c.task_id,
        "element_id": c.element_id,
        "started_at": c.started_at.isoformat(),
        "limit": c.limit,
        "unit": c.unit,
        "due_on": timefmt.deadline(c.due_at),  # the Beijing day it runs out (24:00 of that day)
        "due_at": c.due_at.isoformat(),
        "warn_at": c.warn_at.isoformat() if c.warn_at else None,
        "days_left": status.days_left if c.open else None,  # in ``unit``: natural days for a 公示
        "state": status.state,
        "state_label": STATE_LABELS[status.state],
        "provisional": c.provisional,
        "extended": c.extended,
        "paused": c.paused_since is not None,
        "paused_days": c.paused_days,
        "escalate_to": list(c.escalate_to),
        "due_from": c.due_from,
        "partner": c.partner,
        "policy": c.policy_id,
        "calendar_version": c.calendar_version,
        "closed_at": c.closed_at.isoformat() if c.closed_at else None,
    }


WORKDAYS_LIMIT = 2500  # about ten years of working days


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def sla_router(engine: Engine) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/instances/{instance_id}/sla",
        summary="实例及各环节的时限状态",
        response_model=list[ClockAnswer],
        responses=errors(404),
    )
    def instance_sla(instance_id: str) -> list[dict[str, Any]]:
        return [clock_json(s) for s in engine.sla_status(instance_id)]

    @router.post(
        "/instances/{instance_id}/sla/extend",
        summary="延长总时限（如 30→45 个工作日）",
        responses=errors(400, 404, 409),
    )
    def extend(instance_id: str, body: ExtendRequest, who: Actor) -> dict[str, Any]:
        view = engine.extend_sla(
            instance_id, reason=body.reason, approver=body.approver, approver_role=body.approver_role, actor=who
        )
        return instance_json(view)

    @router.get("/supervisions", summary="督办记录（未办结）：联办部门负责人只看本部门的，其他角色看本辖区的")
    def overdue_alerts(caller: Caller, role: str | None = None) -> list[dict[str, Any]]:
        return overdue_alerts_for(engine, caller, role=role)

    @router.get("/sla/report", summary="按流程、单位、环节统计按时办结率")
    def report(
        since: Annotated[Day, Query(description="起始日期（含），北京时间，1900-01-01 至 2100-12-31")],
        until: Annotated[Day, Query(description="截止日期（含），北京时间，1900-01-01 至 2100-12-31")],
        process_id: str | None = None,
        org_unit: str | None = None,
    ) -> list[dict[str, Any]]:
        end = _day_start(until + timedelta(days=1))
        return engine.sla_report(_day_start(since), end, process_id=process_id, org_unit=org_unit)

    @router.post(
        "/calendar/schedules",
        status_code=201,
        summary="载入某年国务院节假日安排（新日历版本）",
        responses=errors(400, 409),
    )
    def load_schedule(
        who: Actor,
        schedule: Annotated[JsonObject, Body(description="节假日安排 JSON，格式见 README")],
        source: Annotated[str, Query(max_length=REASON_LIMIT, description="来源说明，例如文件名或文号")] = "api",
    ) -> dict[str, Any]:
        loaded, recomputed = engine.load_calendar(json.dumps(schedule, ensure_ascii=False), source=source, actor=who)
        return {
            "year": loaded.year,
            "version": loaded.version,
            "region": loaded.region,
            "recomputed_instances": recomputed,
        }

    @router.get("/calendar/add-workdays", summary="计算 N 个工作日后的日期")
    def add_workdays(
        start: Annotated[Day, Query(description="起算日期，1900-01-01 至 2100-12-31")],
        n: Annotated[int, Query(ge=0, le=WORKDAYS_LIMIT, description="工作日数")],
        region: str | None = None,
    ) -> dict[str, Any]:
        result = engine.calendar().add_working_days(start, n, region=region)
        return {
            "date": result.date.isoformat(),
            "provisional": result.provisional,
            "calendar_version": result.calendar_version,
        }

    # ``{year:int}``: a word after /calendar/ (``schedules``) is another route, so
    # GET /api/calendar/schedules answers 405, not a 422 about a year.
    @router.get("/calendar/{year:int}", summary="某年的节假日与调休安排", responses=errors(404))
    def show(
        year: Annotated[int, Path(ge=FIRST_DAY.year, le=LAST_DAY.year, description="年份，1900 至 2100")],
        region: str | None = None,
    ) -> dict[str, Any]:
        return schedule_for_year(engine.calendar(), year, region=region).to_dict()

    return router
