"""``/api/studio/drafts/{process_id}/dry-run``: 试运行 of the designer's draft
(designer / admin; :data:`jiuzhu.web.api_guard.API_RULES`), and
``…/dry-run/scenario``: the same run saved as a Gherkin scenario in the draft.

Each request carries the whole run (acceptance date, start data, the forms
submitted and the clock jumps so far) and is replayed on a throw-away engine
(:mod:`jiuzhu.studio.dry_run`); nothing is kept on the server between
requests, so memory is bounded by one run per worker thread."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from engine.clock import SHANGHAI
from engine.errors import InvalidRequestError, Location
from jiuzhu.api_common import Caller
from jiuzhu.api_hygiene import FIRST_DAY, LAST_DAY, TEXT_LIMIT, Day, JsonObject, errors
from jiuzhu.settings import Settings
from jiuzhu.studio import dry_run_scenario
from jiuzhu.studio.dry_run import Bounds, Complete, Jump, Plan, dry_run
from jiuzhu.web.studio_access import studio_of

PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"
STEP_LIMIT = 1000  # what the request model reads at all; the run's own bound is a setting
ACCEPTED_AT = time(9)  # a case is accepted at 9 in the morning, Beijing time


def _utf8(value: Any) -> Any:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("数据中含有无法编码的字符（孤立的代理码元）") from None
    return value


def _moment(value: datetime) -> datetime:
    if not FIRST_DAY.year <= value.year <= LAST_DAY.year:
        raise ValueError(f"时刻须在 {FIRST_DAY.year}–{LAST_DAY.year} 年之间")
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


Data = Annotated[JsonObject, AfterValidator(_utf8)]
Text = Annotated[str, Field(min_length=1, max_length=TEXT_LIMIT, pattern=PLAIN_TEXT)]
Moment = Annotated[datetime, AfterValidator(_moment)]


class DryRunSubmit(BaseModel):
    kind: Literal["complete"] = Field(description="提交一个待办的表单")
    task: Text = Field(description="待办的 BPMN 元素标识")
    data: Data = Field(description="提交的表单数据")
    actor: Text | None = Field(default=None, description="以谁的名义提交（缺省：试运行）")


class DryRunJump(BaseModel):
    kind: Literal["jump"] = Field(description="跳到某一时刻（跳到期限），途中到期的定时器依次触发")
    to: Moment = Field(description="目标时刻；不带时区时为北京时间")


Step = Annotated[DryRunSubmit | DryRunJump, Field(discriminator="kind")]


class DryRunRequest(BaseModel):
    accepted_on: Day = Field(description="受理日期（北京时间，当日 9 点开始案件）")
    region: Text = Field(default="CN", description="行政区划代码")
    org_unit: Text | None = Field(default=None, description="受理机构（组织机构代码）")
    start: Data | None = Field(default=None, description="开始数据；缺省时只部署草稿并给出开始表单")
    steps: list[Step] = Field(default_factory=list, max_length=STEP_LIMIT, description="已做的各步，依次重放")


class DryRunScenarioRequest(DryRunRequest):
    name: str = Field(min_length=1, max_length=80, description="场景名称")


def _plan(body: DryRunRequest) -> Plan:
    steps = tuple(Complete(s.task, s.data, s.actor) if isinstance(s, DryRunSubmit) else Jump(s.to) for s in body.steps)
    accepted = datetime.combine(body.accepted_on, ACCEPTED_AT, SHANGHAI)
    return Plan(accepted, body.region, body.org_unit, body.start, steps)


def studio_dry_run_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/studio", tags=["流程设计"])
    bounds = Bounds(max_steps=settings.studio_dry_run_steps, seconds=settings.studio_dry_run_seconds)

    def run(request: Request, process_id: str, username: str, plan: Plan) -> tuple[Any, dict[str, Any]]:
        studio = studio_of(request)
        draft = studio.existing_draft(process_id, username)
        state = dry_run(studio.engine, process_id, draft.files, studio.folder(process_id), plan, bounds)
        return draft, state

    @router.post(
        "/drafts/{process_id}/dry-run",
        summary="试运行草稿：在临时数据库和注入的时钟上重放各步，给出待办、路径、时限和审计事件",
        responses=errors(400, 404),
    )
    async def dry_run_draft(request: Request, process_id: str, body: DryRunRequest, caller: Caller) -> dict[str, Any]:
        plan = _plan(body)
        _draft, state = await run_in_threadpool(run, request, process_id, caller.username, plan)
        return state

    @router.post(
        "/drafts/{process_id}/dry-run/scenario",
        summary="把这次试运行存为场景（追加到草稿的 Gherkin 场景文件）",
        responses=errors(400, 404, 409),
    )
    async def save_scenario(
        request: Request, process_id: str, body: DryRunScenarioRequest, caller: Caller
    ) -> dict[str, Any]:
        plan = _plan(body)

        def save() -> dict[str, Any]:
            draft, state = run(request, process_id, caller.username, plan)
            if state["error"] is not None:
                message = f"试运行未能走完各步（{state['error']['message']}），请先撤销出错的一步再保存"
                raise InvalidRequestError(message, code="DRY_RUN_FAILED", location=Location(field="steps"))
            feature, scenario = dry_run_scenario.save(process_id, draft.files, body.name, plan, state)
            name = dry_run_scenario.feature_name(process_id)
            saved = studio_of(request).drafts.replace(
                draft, {**draft.files, name: feature}, None, base_version=draft.base_version
            )
            return {"revision": saved.revision, "file": name, "feature": feature, "scenario": scenario,
                    "name": body.name.strip()}  # fmt: skip

        return await run_in_threadpool(save)

    return router
