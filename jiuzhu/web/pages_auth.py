"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiuzhu.accounts import password_matches
from jiuzhu.web.auth import SESSION_ID, csrf_protected
from jiuzhu.web.context import web
from jiuzhu.web.templating import render
from jiuzhu.web.throttle import client_address

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only our own paths: never an absolute or protocol-relative address.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/inbox"
    return target


def _who(request: Request) -> str:
    viewer = getattr(request.state, "viewer", None)
    return viewer.username if viewer is not None else "-"


def _landing(target: str, partner: bool) -> str:
    # The caseworkers' inbox is the default; a partner department starts in its own 联办待办.
    return "/partner" if partner and target == "/inbox" else target


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str = "/inbox") -> Response:
    viewer = getattr(request.state, "viewer", None)
    if viewer is not None:
        return RedirectResponse(_landing(_safe_next(next), viewer.department is not None), status_code=303)
    return render(request, "signin.html", {"next": _safe_next(next), "username": "", "error": None})


@router.post("/signin", dependencies=[Depends(csrf_protected)])
def signin(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/inbox",
) -> Response:
    context = web(request)
    address = client_address(request)
    username = username.strip()
    values = {"next": _safe_next(next), "username": username}
    if context.throttle.blocked(username, address):
        error = "登录失败次数过多，请稍后再试"
        return render(request, "signin.html", {**values, "error": error}, status=429)
    user = context.accounts.find_user(username)
    if user is None or not user.active or not password_matches(user.password_hash, password):
        context.throttle.failed(username, address)
        return render(request, "signin.html", {**values, "error": "账号或密码不正确"}, status=401)
    context.throttle.succeeded(username, address)
    previous = getattr(request.state, "session_id", None)
    if previous is not None:  # signing in again over a live session replaces it
        context.sessions.end(previous, actor=_who(request), reason="signout")
    # A fresh session (and CSRF token) at sign-in: no session fixation.
    request.session.clear()
    request.session[SESSION_ID] = context.sessions.start(user.username, address)
    partner = context.directory().department(user) is not None
    return RedirectResponse(_landing(_safe_next(next), partner), status_code=303)


@router.post("/signout", dependencies=[Depends(csrf_protected)])
def signout(request: Request) -> Response:
    session_id = getattr(request.state, "session_id", None)
    if session_id is not None:  # ended on the server: a copy of the cookie is worth nothing now
        web(request).sessions.end(session_id, actor=_who(request), reason="signout")
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)
