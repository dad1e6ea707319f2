"""API 令牌: a user's own tokens (``/account/tokens``, in the user's menu) and
the administrators' view of everyone's and the system tokens
(``/admin/tokens``). A new token's secret is shown once, in the answer to the
form that created it, never put in a URL, the session or the database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from engine.errors import JiuzhuError
from integrations.api_tokens import TokenInfo
from jiuzhu.accounts import ADMIN
from jiuzhu.web.auth import Viewer, csrf_protected, current_user, require_role
from jiuzhu.web.context import web
from jiuzhu.web.pages_inbox import flash, take_flashes
from jiuzhu.web.templating import render
from jiuzhu.web.token_policy import issue, visible, withdraw

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(current_user)]
Admin = Annotated[Viewer, Depends(require_role(ADMIN))]
OWN, ALL = "/account/tokens", "/admin/tokens"


def _page(
    request: Request, viewer: Viewer, *, admin_view: bool, new: tuple[TokenInfo, str] | None = None, error: str = ""
) -> Response:
    context = web(request)
    tokens = visible(context, viewer) if admin_view else visible(context, viewer, viewer.username)
    values = {
        "tokens": tokens,
        "admin_view": admin_view,
        "action": ALL if admin_view else OWN,
        "new_token": new,
        "error": error,
        "users": sorted(u.username for u in context.accounts.users() if u.active) if admin_view else [],
        "flashes": take_flashes(request),
    }
    response = render(request, "tokens.html", values, status=422 if error else 200)
    if new is not None:
        response.headers["Cache-Control"] = "no-store"  # the page holds the secret
    return response


@router.get(OWN)
def own_tokens(request: Request, viewer: SignedIn) -> Response:
    return _page(request, viewer, admin_view=False)


@router.post(OWN, dependencies=[Depends(csrf_protected)])
def create_own(request: Request, viewer: SignedIn, name: Annotated[str, Form()] = "") -> Response:
    try:
        made = issue(web(request), viewer, name)
    except JiuzhuError as exc:
        return _page(request, viewer, admin_view=False, error=exc.message)
    return _page(request, viewer, admin_view=False, new=made)


@router.get(ALL)
def all_tokens(request: Request, viewer: Admin) -> Response:
    return _page(request, viewer, admin_view=True)


@router.post(ALL, dependencies=[Depends(csrf_protected)])
def create_any(
    request: Request,
    viewer: Admin,
    name: Annotated[str, Form()] = "",
    holder: Annotated[str, Form(description="账号，或 system 表示系统令牌")] = "",
) -> Response:
    system = holder == "system"
    try:
        made = issue(web(request), viewer, name, username=None if system else (holder or None), system=system)
    except JiuzhuError as exc:
        return _page(request, viewer, admin_view=True, error=exc.message)
    return _page(request, viewer, admin_view=True, new=made)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[Depends(csrf_protected)])
def revoke(request: Request, viewer: SignedIn, token_id: str) -> Response:
    info = withdraw(web(request), viewer, token_id)  # 404 for a token that is not the viewer's to revoke
    flash(request, f"已吊销 API 令牌「{info.name}」（{info.id}）")
    back = OWN if info.username == viewer.username or not viewer.has(ADMIN) else ALL
    return RedirectResponse(back, status_code=303)
