"""The app's routes as the pages and the API guard see them, and where a
signed-in user starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.routing import BaseRoute, Mount, compile_path

from jiuzhu.web.auth import Viewer


@dataclass(frozen=True)
class RouteInfo:
    path: str  # the template as documented: ``/api/calendar/{year}``
    methods: frozenset[str]
    mount: bool = False
    pattern: str = ""  # as declared, with any convertor: ``/api/calendar/{year:int}``


def _template(path: str) -> str:
    return compile_path(path)[1]  # Starlette's path format: the convertors taken out


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
        declared = getattr(holder, "path", "")
        found.append(RouteInfo(_template(declared), methods, isinstance(route, Mount), declared))
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
        table = [(compile_path(r.pattern)[0], r.methods, r.path) for r in flat_routes(app) if not r.mount]
        app.state.route_table = table
    for regex, methods, template in table:
        if method in methods and regex.match(path):
            return template
    return None


def home_of(viewer: Viewer | None) -> str:
    """Where a signed-in user starts: a partner department's own handoffs, else the inbox."""
    return "/partner" if viewer is not None and viewer.department is not None else "/inbox"
