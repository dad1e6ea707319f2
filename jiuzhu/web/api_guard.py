"""Authorization of every ``/api`` route, deny by default.

A caller is the machine client with the bearer token (acts as ``system``,
admin) or a signed-in user (session cookie; state-changing calls then need the
X-CSRF-Token header). Each route is listed in :data:`API_RULES` with the roles
allowed (``ANYONE``: any signed-in user); a route missing from the table is
refused to users. Routes with ``{instance_id}`` additionally require the case
to be in the caller's scope. Finer checks (the org unit of a new case, the lane
of a task) are made by the route itself with :mod:`jiuzhu.web.auth`.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Header, Request
from starlette.concurrency import run_in_threadpool

from engine.errors import UnauthorizedError
from jiuzhu.accounts import ADMIN, AUDITOR, DESIGNER, PARTNER_SUPERVISOR
from jiuzhu.settings import Settings
from jiuzhu.web.auth import COUNTY_ROLES, STARTERS, SYSTEM, Viewer, can_see_instance, check_csrf, forbid
from jiuzhu.web.routes import route_template

ANYONE = ("*",)
CASEWORKERS = (
    "village_assistant",
    "township_handler",
    "township_reviewer",
    "county_officer",
    "check_center",
    "coordination_convener",
    "coordination_member",
    "partner",
    AUDITOR,
    ADMIN,
)
SUPERVISORS = ("county_officer", "township_reviewer", "township_handler", PARTNER_SUPERVISOR, AUDITOR, ADMIN)

API_RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/api/deployments"): (DESIGNER, ADMIN),
    ("GET", "/api/outbox"): (ADMIN,),
    ("POST", "/api/outbox/{event_id}/requeue"): (ADMIN,),
    ("GET", "/api/processes"): ANYONE,
    ("GET", "/api/processes/{process_id}/versions"): ANYONE,
    ("POST", "/api/processes/{process_id}/instances"): STARTERS,
    ("GET", "/api/instances"): CASEWORKERS,
    ("GET", "/api/instances/{instance_id}"): CASEWORKERS,
    ("GET", "/api/instances/{instance_id}/tasks"): CASEWORKERS,
    ("POST", "/api/instances/{instance_id}/tasks/{task_id}/complete"): CASEWORKERS,
    ("POST", "/api/instances/{instance_id}/retry"): COUNTY_ROLES,
    ("POST", "/api/instances/{instance_id}/terminate"): COUNTY_ROLES,
    ("GET", "/api/instances/{instance_id}/events"): CASEWORKERS,
    ("GET", "/api/instances/{instance_id}/verify"): (AUDITOR, ADMIN),
    ("GET", "/api/verify"): (AUDITOR, ADMIN),
    ("POST", "/api/timers/fire"): (ADMIN,),
    ("GET", "/api/instances/{instance_id}/sla"): CASEWORKERS,
    ("POST", "/api/instances/{instance_id}/sla/extend"): COUNTY_ROLES,
    ("GET", "/api/supervisions"): SUPERVISORS,
    ("GET", "/api/sla/report"): ("county_officer", AUDITOR, ADMIN),
    ("POST", "/api/calendar/schedules"): (ADMIN,),
    ("GET", "/api/calendar/add-workdays"): ANYONE,
    ("GET", "/api/calendar/{year}"): ANYONE,
}


def api_guard(settings: Settings):  # type: ignore[no-untyped-def]
    async def guard(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
        viewer = _caller(request, settings, authorization)
        if not viewer.is_system:
            if request.method not in ("GET", "HEAD"):
                await check_csrf(request)
            template = route_template(request.app, request.method, request.url.path)
            allowed = API_RULES.get((request.method, template or ""))
            if allowed is None or (allowed != ANYONE and not viewer.has(*allowed)):
                raise forbid("您的角色无权调用此接口")
            instance_id = request.path_params.get("instance_id")
            if instance_id is not None:
                engine = request.app.state.engine
                record = await run_in_threadpool(engine.instance_record, instance_id)
                if not can_see_instance(viewer, record):
                    raise forbid("该案件不在您的管辖范围内")
        request.state.api_viewer = viewer

    return guard


def _caller(request: Request, settings: Settings, authorization: str | None) -> Viewer:
    if authorization is not None:
        if settings.api_token and secrets.compare_digest(authorization, f"Bearer {settings.api_token}"):
            return SYSTEM
        raise UnauthorizedError("缺少或错误的访问令牌")
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is not None:
        return viewer
    if settings.api_token is None:
        return SYSTEM  # no token configured: the development API of old (jiuzhu serve always sets one)
    raise UnauthorizedError("缺少或错误的访问令牌")


def viewer_of(request: Request) -> Viewer:
    viewer: Viewer = request.state.api_viewer
    return viewer


async def api_viewer(request: Request) -> Viewer:
    # async: a sync dependency would cost a thread-pool trip on every API call
    return viewer_of(request)
