"""``/api/studio/catalog`` and ``/api/studio/check-script``: what the studio's
properties panel offers, and the inline check of code typed into it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from engine.service.facade import Engine
from jiuzhu.api_hygiene import errors
from jiuzhu.settings import Settings
from jiuzhu.studio import catalog, script_check
from jiuzhu.web.context import web

SCRIPT_LIMIT = 100_000  # characters: a long script task is a few hundred lines


class CheckRequest(BaseModel):
    kind: script_check.Kind = Field(
        description="script 脚本（脚本任务、前置/后置脚本）；condition 条件表达式（顺序流）；"
        "template 办理说明模板；timeDate/timeDuration/timeCycle 计时器"
    )
    text: str = Field(max_length=SCRIPT_LIMIT, description="要检查的文本")


def studio_catalog_router(engine: Engine, settings: Settings) -> APIRouter:
    router = APIRouter()

    @router.get("/studio/catalog", summary="流程设计：属性面板的可选项（角色、表单、时限环节、连接器、决策、时间函数）")
    def studio_catalog(request: Request) -> dict[str, Any]:
        with engine.store.reader() as unit:
            in_force = engine.sla.book(unit).policies
        return catalog.catalog(
            role_names=web(request).directory().role_names,
            forms_dir=settings.forms_dir,
            processes_dir=settings.processes_dir,
            in_force=in_force,
            registry=engine.connectors,
            available_helpers=engine.sandbox.helpers,
        )

    @router.post(
        "/studio/check-script",
        summary="流程设计：按部署的规则检查脚本、条件、模板或计时器",
        responses=errors(400),
    )
    async def check_script(body: CheckRequest) -> dict[str, Any]:
        problems = await run_in_threadpool(
            script_check.check, body.kind, body.text, engine.sandbox, settings.time_limits
        )
        return {"ok": not problems, "problems": problems}

    return router
