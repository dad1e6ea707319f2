"""修改密码 (``/account/password``, in the user's menu) and the
administrators' list of live sign-ins (``/admin/sessions``), where one session
or all of an account's can be ended. A password change ends every other
session of the account; the one it was made in goes on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from engine.errors import NotFoundError
from jiuzhu.accounts import ADMIN, hash_password, password_matches
from jiuzhu.web.auth import Viewer, csrf_protected, current_user, require_role
from jiuzhu.web.context import web
from jiuzhu.web.pages_inbox import flash, take_flashes
from jiuzhu.web.templating import render
from jiuzhu.web.throttle import client_address

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(current_user)]
Admin = Annotated[Viewer, Depends(require_role(ADMIN))]
PASSWORD, SESSIONS = "/account/password", "/admin/sessions"
PASSWORD_MIN, PASSWORD_MAX = 8, 128


def _password_page(request: Request, *, error: str = "", status: int = 200) -> Response:
    values = {"error": error, "minimum": PASSWORD_MIN, "flashes": take_flashes(request)}
    return render(request, "password.html", values, status=status)


@router.get(PASSWORD, dependencies=[Depends(current_user)])
def password_page(request: Request) -> Response:
    return _password_page(request)


def _new_password_problem(current: str, new: str, repeated: str) -> str:
    if new != repeated:
        return "两次输入的新密码不一致"
    if not PASSWORD_MIN <= len(new) <= PASSWORD_MAX:
        return f"新密码须为 {PASSWORD_MIN} 至 {PASSWORD_MAX} 个字符"
    if new == current:
        return "新密码不能与当前密码相同"
    return ""


@router.post(PASSWORD, dependencies=[Depends(csrf_protected)])
def change_password(
    request: Request,
    viewer: SignedIn,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    repeated: Annotated[str, Form()] = "",
) -> Response:
    context = web(request)
    address = client_address(request)
    # Whoever holds a stolen cookie may try the password here too: the sign-in limits apply.
    if context.throttle.blocked(viewer.username, address):
        return _password_page(request, error="密码错误次数过多，请稍后再试", status=429)
    user = context.accounts.find_user(viewer.username)
    if user is None or not password_matches(user.password_hash, current):
        context.throttle.failed(viewer.username, address)
        return _password_page(request, error="当前密码不正确", status=422)
    problem = _new_password_problem(current, new, repeated)
    if problem:
        return _password_page(request, error=problem, status=422)
    keep = getattr(request.state, "session_id", None)
    ended = context.sessions.change_password(viewer.username, hash_password(new), actor=viewer.username, keep=keep)
    flash(request, f"密码已修改；其他 {ended} 个登录会话已结束" if ended else "密码已修改")
    return RedirectResponse(PASSWORD, status_code=303)


@router.get(SESSIONS, dependencies=[Depends(require_role(ADMIN))])
def sessions_page(request: Request) -> Response:
    context = web(request)
    values = {
        "sessions": context.sessions.live(),
        "mine": getattr(request.state, "session_id", None),
        "flashes": take_flashes(request),
    }
    return render(request, "sessions.html", values)


@router.post(SESSIONS + "/{session_id}/end", dependencies=[Depends(csrf_protected)])
def end_session(request: Request, viewer: Admin, session_id: str) -> Response:
    info = web(request).sessions.end(session_id, actor=viewer.username, reason="admin")
    if info is None:
        raise NotFoundError("没有这个登录会话", code="WEB_SESSION_NOT_FOUND")
    flash(request, f"已结束 {info.username} 的登录会话（{info.short}）")
    return RedirectResponse(SESSIONS, status_code=303)


@router.post(SESSIONS + "/user/{username}/end", dependencies=[Depends(csrf_protected)])
def end_user_sessions(request: Request, viewer: Admin, username: str) -> Response:
    # The administrator's own current session is kept: ending it would be signing out.
    keep = getattr(request.state, "session_id", None)
    ended = web(request).sessions.end_all(username, actor=viewer.username, reason="admin", keep=keep)
    flash(request, f"已结束 {username} 的 {ended} 个登录会话")
    return RedirectResponse(SESSIONS, status_code=303)
