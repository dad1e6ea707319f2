"""Who is asking, and what they may see and do.

Pages and the API share one rule set. A request is made by a :class:`Viewer`:
a signed-in user (session cookie) or, on ``/api`` only, the holder of an API
token: a user's token acts as that user, a system token (``JIUZHU_API_TOKEN``
or one an administrator named) as ``system:<name>`` with the admin role.
The decisions below are pure functions of the viewer and a record, so
pages, API routes and tests all ask the same question.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from engine.errors import ForbiddenError, JiuzhuError
from engine.ports import InstanceRecord, TaskRow
from integrations.ports import InboxRow, User
from jiuzhu.accounts import ADMIN, AUDITOR, PARTNER, Directory

# The cookie carries the random id of a server-side session (integrations/web_sessions.py), never who is signed in.
SESSION_ID, SESSION_CSRF = "sid", "csrf"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"

# Who may start a case, see a full 身份证号, and act as the county.
STARTERS = ("village_assistant", "township_handler", "county_officer", ADMIN)
FULL_ID_ROLES = (
    "village_assistant",
    "township_handler",
    "township_reviewer",
    "county_officer",
    "check_center",
    AUDITOR,
    ADMIN,
)
COUNTY_ROLES = ("county_officer", ADMIN)
# Who searches cases and draws 入户抽查 samples (审计 pages).
AUDIT_ROLES = (AUDITOR, "county_officer", ADMIN)
# Roles that work on or oversee cases (a process designer does neither).
CASE_ROLES = (
    "village_assistant",
    "township_handler",
    "township_reviewer",
    "county_officer",
    "check_center",
    "coordination_convener",
    "coordination_member",
    AUDITOR,
    ADMIN,
)


class NotSignedIn(JiuzhuError):
    """No session (pages redirect to the sign-in page, the API answers 401)."""

    kind = "unauthorized"
    default_code = "NOT_SIGNED_IN"


@dataclass(frozen=True)
class Viewer:
    username: str
    display_name: str
    roles: tuple[str, ...]
    org_unit: str
    org_name: str
    scope: tuple[str, ...] | None  # org unit codes; None: all (admin)
    lanes: tuple[str, ...] | None  # BPMN lanes worked in; None: all (admin)
    department: str | None = None  # partner users: their department
    is_system: bool = False

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def read_only(self) -> bool:
        return set(self.roles) <= {AUDITOR}


def viewer_for(user: User, directory: Directory) -> Viewer:
    admin = user.has(ADMIN)
    scope = directory.scope(user)
    return Viewer(
        user.username,
        user.display_name,
        user.roles,
        user.org_unit,
        directory.unit_name(user.org_unit),
        None if scope is None else tuple(scope),
        None if admin else tuple(directory.lanes(user)),
        directory.department(user),
    )


def system_viewer(name: str) -> Viewer:
    """The principal of a system token: the admin's scope, named in the audit log."""
    return Viewer(f"system:{name}", f"系统接口（{name}）", (ADMIN,), "", "接口调用", None, None, is_system=True)


# -- decisions -------------------------------------------------------------------


def in_scope(viewer: Viewer, org_unit: str | None) -> bool:
    return viewer.scope is None or (org_unit is not None and org_unit in viewer.scope)


def can_see_instance(viewer: Viewer, record: InstanceRecord) -> bool:
    """A case (instance) is visible within the viewer's org scope. Partner
    users see only their handoff tasks, never the whole case."""
    if viewer.has(ADMIN):
        return True
    if not viewer.has(*CASE_ROLES) or (viewer.department is not None and not viewer.scope):
        return False
    return in_scope(viewer, record.org_unit)


def can_see_task(viewer: Viewer, task: TaskRow, record: InstanceRecord) -> bool:
    if viewer.department is not None and task.facts.partner == viewer.department:
        return True
    return can_see_instance(viewer, record)


def can_act_on_task(viewer: Viewer, task: TaskRow | InboxRow, record: InstanceRecord) -> bool:
    """Claim, complete, 转交 or 回退: the task's lane is one of the viewer's
    roles, the case is in scope (or the handoff is the viewer's department),
    and nobody else holds it."""
    if viewer.read_only:
        return False
    if task.assignee not in (None, viewer.username):
        return False
    if viewer.lanes is None:
        return True
    if task.lane not in viewer.lanes:
        return False
    if viewer.has(PARTNER) and viewer.department is not None:
        partner = task.facts.partner if isinstance(task, TaskRow) else None
        return partner == viewer.department
    return in_scope(viewer, record.org_unit)


def task_guard(viewer: Viewer, *, own_handoffs: bool = True) -> Callable[[TaskRow, InstanceRecord], None]:
    """:func:`can_act_on_task` as the engine's completion guard, so that the
    check runs inside the step's own transaction (a task claimed or moved
    between the page's read and the submit is refused). ``own_handoffs``
    False: a partner's own handoff is refused here (it is worked in 联办待办)."""

    def guard(task: TaskRow, record: InstanceRecord) -> None:
        if not can_act_on_task(viewer, task, record):
            raise forbid("您无权办理此任务")
        if not own_handoffs and viewer.department is not None and task.facts.partner == viewer.department:
            raise forbid("联办事项请在「联办待办」中办理")

    return guard


def can_see_full_id(viewer: Viewer, record: InstanceRecord) -> bool:
    return viewer.has(*FULL_ID_ROLES) and can_see_instance(viewer, record)


def forbid(message: str = "无权访问该页面或数据") -> ForbiddenError:
    return ForbiddenError(message, code="FORBIDDEN")


# -- request dependencies ----------------------------------------------------------


def current_user(request: Request) -> Viewer:
    """The signed-in viewer of a page request, or :class:`NotSignedIn`."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is None:
        raise NotSignedIn("请先登录")
    return viewer


def require_role(*roles: str) -> Callable[[Request], Viewer]:
    """A dependency: the signed-in viewer, if they hold one of ``roles``."""

    def dependency(request: Request) -> Viewer:
        viewer = current_user(request)
        if not viewer.has(*roles):
            raise forbid("您的角色无权使用此功能")
        return viewer

    return dependency


def csrf_token(request: Request) -> str:
    token: str | None = request.session.get(SESSION_CSRF)
    if token is None:
        token = secrets.token_urlsafe(24)
        request.session[SESSION_CSRF] = token
    return token


async def check_csrf(request: Request) -> None:
    """Every state-changing request made with a session cookie carries the
    session's token, as a form field or the X-CSRF-Token header (htmx)."""
    expected = request.session.get(SESSION_CSRF)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise ForbiddenError("页面已过期或请求来源不明（CSRF 校验失败），请刷新后重试", code="CSRF_FAILED")


csrf_protected = check_csrf  # the dependency every POST page route declares


def state_changing(request: Request) -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS")


def viewer_json(viewer: Viewer) -> dict[str, Any]:
    return {"username": viewer.username, "roles": list(viewer.roles), "org_unit": viewer.org_unit}
