"""HTTP routes of the studio's form and time-limit editors (designers and administrators).

Stateless: each call carries the draft file's content and stores nothing;
the logic is in :mod:`jiuzhu.studio.form_tools` and :mod:`jiuzhu.studio.policy_tools`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from engine.service.facade import Engine
from jiuzhu.api_hygiene import JSON_BODY_LIMIT, REASON_LIMIT, TEXT_LIMIT, Day, JsonObject, JsonValue, errors
from jiuzhu.studio import form_tools, policy_tools
from jiuzhu.web.context import WebContext

PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"
FileName = Annotated[
    str, Field(min_length=1, max_length=REASON_LIMIT, pattern=PLAIN_TEXT, description="草稿中的文件名")
]


class FormPreviewRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: FileName = "form-schema.json"
    form_schema: JsonValue = Field(alias="schema", description="表单的 JSON Schema")
    ui_schema: JsonValue = Field(default=None, description="界面配置（uischema），可省略")
    data: JsonObject | None = Field(default=None, description="预填的数据")


class FormTryRequest(FormPreviewRequest):
    posted: list[tuple[str, str]] | None = Field(
        default=None, description="预览表单中填写的内容（字段名与值的列表），按办理页面的方式读回；与 data 二选一"
    )


class PolicyCheckRequest(BaseModel):
    name: FileName = "policy.sla.json"
    text: str = Field(max_length=JSON_BODY_LIMIT, description="时限政策文件（*.sla.json）的全文")


class PolicyDryRunRequest(PolicyCheckRequest):
    region: str | None = Field(
        default=None, max_length=TEXT_LIMIT, pattern=PLAIN_TEXT, description="行政区划代码；缺省为政策的第一个适用地区"
    )
    accepted_on: Day = Field(description="受理日期（北京时间）")


def _regions(request: Request) -> set[str]:
    context: WebContext = request.app.state.web
    return {u.region for u in context.directory().units.values() if u.region}


def studio_tools_router(engine: Engine) -> APIRouter:
    router = APIRouter(prefix="/studio", tags=["流程设计"], responses=errors(400))

    @router.post("/form-preview", summary="表单预览：按办理页面的方式绘制草稿表单，并列出部署时会报告的问题")
    def form_preview(body: FormPreviewRequest) -> dict[str, Any]:
        return form_tools.preview(body.form_schema, body.ui_schema, body.data, name=body.name)

    @router.post("/form-try", summary="试填：用引擎的校验检查样例数据，逐字段定位错误")
    def form_try(body: FormTryRequest) -> dict[str, Any]:
        return form_tools.try_input(
            body.form_schema, body.ui_schema, name=body.name, data=body.data, posted=body.posted
        )

    @router.post("/policy-check", summary="校验时限政策：与部署时相同的检查")
    def policy_check(body: PolicyCheckRequest, request: Request) -> dict[str, Any]:
        return policy_tools.check(engine, body.text, name=body.name, regions=_regions(request))

    @router.post("/policy-dryrun", summary="时限试算：按工作日历计算各环节的到期日")
    def policy_dryrun(body: PolicyDryRunRequest) -> dict[str, Any]:
        return policy_tools.dry_run(engine, body.text, name=body.name, region=body.region, accepted_on=body.accepted_on)

    return router
