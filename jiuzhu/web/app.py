"""Mounting the caseworker web on the FastAPI app: sessions, the viewer of
each request, static files (own and vendored from node_modules), pages."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.errors import JiuzhuError
from jiuzhu.web.auth import SESSION_USER, NotSignedIn, Viewer, viewer_for
from jiuzhu.web.context import WebContext
from jiuzhu.web.templating import render

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
STATIC = Path(__file__).resolve().parent / "static"
# /static/vendor/<name>/… → a package's dist folder; nothing is fetched at run time.
VENDOR = {
    "htmx": NODE_MODULES / "htmx.org" / "dist",
    "bpmn-js": NODE_MODULES / "bpmn-js" / "dist",
    "echarts": NODE_MODULES / "echarts" / "dist",
}
VENDOR_FILES = {"htmx.min.js": VENDOR["htmx"] / "htmx.min.js"}
TITLES = {401: "请先登录", 403: "无权访问", 404: "未找到", 409: "操作冲突", 422: "请求有误", 429: "请求过多"}


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    mount: bool = False


def flat_routes(app: FastAPI) -> list[RouteInfo]:
    """Every route with its full path, including those of nested included
    routers (recent FastAPI keeps included routers as lazy entries)."""
    try:
        from fastapi.routing import _iter_routes_with_context
    except ImportError:  # a FastAPI that flattens on include
        pairs: list[tuple[BaseRoute, Any]] = [(r, None) for r in app.routes]
    else:
        pairs = list(_iter_routes_with_context(app.routes))
    found = []
    for route, effective in pairs:
        holder = effective if effective is not None else route
        methods = frozenset(getattr(holder, "methods", None) or ())
        found.append(RouteInfo(getattr(holder, "path", ""), methods, isinstance(route, Mount)))
    return found


def route_paths(app: FastAPI) -> set[str]:
    cached: set[str] | None = getattr(app.state, "route_paths", None)
    if cached is None:
        cached = {r.path for r in flat_routes(app)}
        app.state.route_paths = cached
    return cached


def route_template(app: FastAPI, method: str, path: str) -> str | None:
    """The path template (``/api/instances/{instance_id}``) a request matches."""
    table: list[tuple[Any, frozenset[str], str]] | None = getattr(app.state, "route_table", None)
    if table is None:
        table = [(compile_path(r.path)[0], r.methods, r.path) for r in flat_routes(app) if not r.mount]
        app.state.route_table = table
    for regex, methods, template in table:
        if method in methods and regex.match(path):
            return template
    return None


def _viewer(context: WebContext, username: str) -> Viewer | None:
    user = context.accounts.find_user(username)
    return viewer_for(user, context.directory()) if user and user.active else None


class _Who:
    """Puts the signed-in viewer (or None) on ``request.state.viewer``. Plain
    ASGI: Starlette's ``@app.middleware("http")`` wraps every request, API
    calls included, in a task group and a streamed response."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self.app, self.context = app, context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            username = scope.get("session", {}).get(SESSION_USER)
            viewer = await run_in_threadpool(_viewer, self.context, username) if username else None
            scope.setdefault("state", {})["viewer"] = viewer
        await self.app(scope, receive, send)


def install_web(app: FastAPI, context: WebContext) -> None:
    app.state.web = context
    from jiuzhu.web import pages_auth, pages_inbox, pages_outbox, pages_partner, pages_task

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

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        return RedirectResponse(home_of(request.state.viewer), status_code=303)


def home_of(viewer: Viewer | None) -> str:
    """Where a signed-in user starts: a partner department's own handoffs, else the inbox."""
    return "/partner" if viewer is not None and viewer.department is not None else "/inbox"


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
