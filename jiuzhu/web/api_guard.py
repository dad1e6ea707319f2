"""Authorization of every ``/api`` route, deny by default.

A caller is an authenticated principal, never a name the request asserts:
the holder of an API token (``Authorization: Bearer``; a user's token acts as
that user with the user's roles and scope, a system token as
``system:<name>`` with the admin's) or a signed-in user (session cookie;
state-changing calls then need the X-CSRF-Token header). With neither, 401.
Each route is listed in :data:`API_RULES` with the roles allowed
(``ANYONE``: any principal); a route missing from the table is refused to
users. Routes with ``{instance_id}`` additionally require the case
to be in the caller's scope. Finer checks (the org unit of a new case, the lane
of a task) are made by the route itself with :mod:`jiuzhu.web.auth`.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from engine.errors import UnauthorizedError
from integrations import api_tokens
from jiuzhu.accounts import ADMIN, AUDITOR, DESIGNER, PARTNER_SUPERVISOR
from jiuzhu.settings import Settings
from jiuzhu.web.auth import COUNTY_ROLES, STARTERS, Viewer, can_see_instance, check_csrf, forbid, system_viewer
from jiuzhu.web.context import WebContext
from jiuzhu.web.routes import route_template
from jiuzhu.web.token_policy import principal

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
    # The designer studio (jiuzhu/web/api_studio.py): designers and administrators only.
    ("GET", "/api/studio/drafts/{process_id}"): (DESIGNER, ADMIN),
    ("PUT", "/api/studio/drafts/{process_id}/files/{name}"): (DESIGNER, ADMIN),
    ("DELETE", "/api/studio/drafts/{process_id}/files/{name}"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/drafts/{process_id}/lint"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/drafts/{process_id}/publish"): (DESIGNER, ADMIN),
    ("GET", "/api/studio/procedures/{process_id}/versions"): (DESIGNER, ADMIN),
    ("GET", "/api/studio/procedures/{process_id}/versions/{version}/files"): (DESIGNER, ADMIN),
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
    ("GET", "/api/audit/digest-key"): ANYONE,
    ("POST", "/api/audit/instances/{instance_id}/replay"): (AUDITOR, ADMIN, "county_officer"),
    ("POST", "/api/timers/fire"): (ADMIN,),
    ("GET", "/api/instances/{instance_id}/sla"): CASEWORKERS,
    ("POST", "/api/instances/{instance_id}/sla/extend"): COUNTY_ROLES,
    ("GET", "/api/supervisions"): SUPERVISORS,
    ("GET", "/api/sla/report"): ("county_officer", AUDITOR, ADMIN),
    ("POST", "/api/calendar/schedules"): (ADMIN,),
    ("GET", "/api/calendar/add-workdays"): ANYONE,
    ("GET", "/api/calendar/{year}"): ANYONE,
    # Any principal manages its own tokens; the routes let administrators manage anyone's.
    ("GET", "/api/tokens"): ANYONE,
    ("POST", "/api/tokens"): ANYONE,
    ("POST", "/api/tokens/{token_id}/revoke"): ANYONE,
    # The studio's form and time-limit editors: stateless checks of a draft file.
    ("POST", "/api/studio/form-preview"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/form-try"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/policy-check"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/policy-dryrun"): (DESIGNER, ADMIN),
    ("GET", "/api/studio/catalog"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/check-script"): (DESIGNER, ADMIN),
    ("GET", "/api/studio/procedures/{process_id}/diff"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/drafts/{process_id}/scenarios"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/drafts/{process_id}/dry-run"): (DESIGNER, ADMIN),
    ("POST", "/api/studio/drafts/{process_id}/dry-run/scenario"): (DESIGNER, ADMIN),
}


# Declares the token in the OpenAPI (a security scheme, not a parameter to fuzz);
# the guard reads the header itself, so a non-Bearer value is refused, not ignored.
BEARER = HTTPBearer(
    scheme_name="ApiToken",
    description="API 令牌：Authorization: Bearer <令牌>。已登录的浏览器会话亦可调用（修改类请求须带 X-CSRF-Token）",
    auto_error=False,
)


def api_guard(settings: Settings):  # type: ignore[no-untyped-def]
    async def guard(
        request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None
    ) -> None:
        authorization = request.headers.get("authorization")
        if authorization is not None:
            viewer = await _token_holder(request, settings, authorization)
        else:
            viewer = _session_user(request)
            if request.method not in ("GET", "HEAD"):
                await check_csrf(request)  # a browser sends the cookie on its own; a token it never does
        if not viewer.is_system:
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


def _refused() -> UnauthorizedError:
    return UnauthorizedError("缺少或错误的 API 令牌", code="API_TOKEN_INVALID")


async def _token_holder(request: Request, settings: Settings, authorization: str) -> Viewer:
    token = authorization[7:].strip() if authorization.startswith("Bearer ") else ""
    configured = settings.api_token
    if configured and secrets.compare_digest(token.encode(), configured.encode()):
        return system_viewer(settings.api_token_name)
    if not api_tokens.looks_like_token(token):
        raise _refused()
    context: WebContext = request.app.state.web

    def holder() -> Viewer:
        return principal(context, api_tokens.authenticate(context.engine, token))

    return await run_in_threadpool(holder)


def _session_user(request: Request) -> Viewer:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is None:
        raise UnauthorizedError("请先登录，或使用 API 令牌（Authorization: Bearer <令牌>）", code="NOT_AUTHENTICATED")
    return viewer


def viewer_of(request: Request) -> Viewer:
    viewer: Viewer = request.state.api_viewer
    return viewer


async def api_viewer(request: Request) -> Viewer:
    # async: a sync dependency would cost a thread-pool trip on every API call
    return viewer_of(request)
