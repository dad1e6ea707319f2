"""The Jinja2 environment every page renders with (``templates``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from engine.sla.clocks import STATE_LABELS
from jiuzhu import timefmt
from jiuzhu.web.auth import csrf_token
from jiuzhu.web.menu import menu_for
from jiuzhu.web.routes import home_of, route_paths

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


# The one way pages show time (jiuzhu/timefmt.py): a moment to the minute, a
# deadline as the Beijing day it runs out, a day as the day a moment falls on.
templates.env.filters["beijing"] = timefmt.moment
templates.env.filters["deadline"] = timefmt.deadline
templates.env.filters["day"] = timefmt.day
templates.env.filters["days_left"] = timefmt.days_left_text
templates.env.globals["STATE_LABELS"] = STATE_LABELS


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HTMLResponse:
    """Render a page with the signed-in viewer and the CSRF token available."""
    viewer = getattr(request.state, "viewer", None)
    nav = menu_for(viewer, route_paths(request.app))
    # The longest matching entry only: /cases/new is 新建申请, not also 案件.
    active = max((href for href, _ in nav if request.url.path.startswith(href)), key=len, default=None)
    values = {
        "viewer": viewer,
        "home": home_of(viewer),
        "nav": nav,
        "active_nav": active,
        "csrf": csrf_token(request),
        "path": request.url.path,
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, values, status_code=status)
