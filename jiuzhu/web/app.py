"""Mounting the caseworker web on the FastAPI app: sessions, the viewer of
each request, static files (own and vendored from node_modules), pages."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.errors import JiuzhuError
from jiuzhu.web.auth import SESSION_ID, NotSignedIn, Viewer, viewer_for
from jiuzhu.web.context import WebContext
from jiuzhu.web.routes import home_of
from jiuzhu.web.templating import render
from jiuzhu.web.vendor import VENDOR, VENDOR_FILES

STATIC = Path(__file__).resolve().parent / "static"
TITLES = {401: "请先登录", 403: "无权访问", 404: "未找到", 409: "操作冲突", 422: "请求有误", 429: "请求过多"}


def _viewer(context: WebContext, token: str) -> tuple[Viewer, str] | None:
    found = context.sessions.resolve(token)
    if found is None:
        return None
    info, user = found
    return viewer_for(user, context.directory()), info.id


class _Who:
    """Puts the signed-in viewer (or None) on ``request.state.viewer``, and
    the server-side session's id on ``request.state.session_id``. A cookie
    whose session has ended (signed out, ended by an administrator or a
    password change, idle or too old) is emptied. Plain ASGI: Starlette's
    ``@app.middleware("http")`` wraps every request, API calls included, in a
    task group and a streamed response."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self.app, self.context = app, context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            session = scope.get("session", {})
            token = session.get(SESSION_ID)
            found = await run_in_threadpool(_viewer, self.context, token) if isinstance(token, str) else None
            if found is None and token is not None:
                session.clear()  # the browser drops the cookie with the answer
            state = scope.setdefault("state", {})
            state["viewer"], state["session_id"] = found if found is not None else (None, None)
        await self.app(scope, receive, send)


def install_web(app: FastAPI, context: WebContext) -> None:
    app.state.web = context
    from jiuzhu.web import (
        pages_auth,
        pages_inbox,
        pages_outbox,
        pages_partner,
        pages_sessions,
        pages_studio,
        pages_task,
        pages_tokens,
    )

    app.add_middleware(_Who, context=context)  # inside the session middleware added next
    settings = context.settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key or secrets.token_urlsafe(32),
        session_cookie="jiuzhu_session",
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    from jiuzhu.web.case_install import install_case_pages

    install_case_pages(app)  # before /static, which would otherwise swallow the vendored modules
    for name, path in VENDOR_FILES.items():
        app.add_api_route(f"/static/vendor/{name}", _file(path), include_in_schema=False)
    for name, folder in VENDOR.items():
        app.mount(f"/static/vendor/{name}", StaticFiles(directory=folder, check_dir=False), name=f"vendor-{name}")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages_auth.router)
    app.include_router(pages_inbox.router)
    app.include_router(pages_task.router)
    app.include_router(pages_partner.router)
    app.include_router(pages_outbox.router)
    app.include_router(pages_tokens.router)
    app.include_router(pages_sessions.router)
    app.include_router(pages_studio.router)
    # Publish checks other parts of the studio add (each: (process_id, files) -> problems).
    app.state.studio_publish_checks = []
    from jiuzhu.web.pages_studio_diff import install_studio_diff

    install_studio_diff(app, settings)  # appends the rules-as-tests check

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        return RedirectResponse(home_of(request.state.viewer), status_code=303)


def _file(path: Path) -> Callable[[], Response]:
    from fastapi.responses import FileResponse

    def serve() -> Response:
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    return serve


def page_error(request: Request, exc: JiuzhuError, status: int) -> Response:
    """Errors on pages: sign-in redirect, or a Chinese error page."""
    if isinstance(exc, NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/signin"})
        from urllib.parse import quote

        return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
    return render(request, "error.html", {"title": TITLES.get(status, "出错了"), "message": exc.message}, status=status)
