"""演示时钟: the administrator's page that moves a demo's time forward.

Installed only by ``jiuzhu serve --demo`` (``install_demo_clock``); without
demo mode the route does not exist at all, so it cannot be turned on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from engine.errors import JiuzhuError
from jiuzhu import timefmt
from jiuzhu.accounts import ADMIN
from jiuzhu.demo_clock import DemoClock, move, target
from jiuzhu.web.auth import Viewer, csrf_protected, require_role
from jiuzhu.web.context import web
from jiuzhu.web.pages_inbox import flash, take_flashes
from jiuzhu.web.templating import render

PATH = "/admin/demo-clock"
Admin = Annotated[Viewer, Depends(require_role(ADMIN))]


def install_demo_clock(app: FastAPI, clock: DemoClock) -> None:
    router = APIRouter(include_in_schema=False)

    @router.get(PATH, dependencies=[Depends(require_role(ADMIN))])
    def page(request: Request) -> Response:
        now, offset = clock.now(), clock.offset()
        values = {"now": timefmt.moment(now), "today": timefmt.day(now), "offset_days": offset.total_seconds() / 86400,
                  "flashes": take_flashes(request)}  # fmt: skip
        return render(request, "admin/demo_clock.html", values)

    @router.post(PATH, dependencies=[Depends(csrf_protected)])
    def move_clock(
        request: Request, viewer: Admin, how: Annotated[str, Form()], on: Annotated[str, Form()] = ""
    ) -> Response:
        engine = web(request).engine
        try:
            fired = move(clock, engine, target(clock, engine, how, on or None), actor=viewer.username)
            flash(request, f"演示时钟已拨到 {timefmt.moment(clock.now())}，处理了 {fired} 件到期事项")
        except JiuzhuError as exc:
            flash(request, f"未能拨动演示时钟：{exc.message}（{exc.code}）")
        return RedirectResponse(PATH, status_code=303)

    app.include_router(router)
