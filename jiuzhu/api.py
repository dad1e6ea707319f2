"""The HTTP API (OpenAPI at /docs). Errors are mapped to status codes here, once."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StrictInt
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from engine.deploy.model import SourceFile
from engine.digest import ALGORITHM
from engine.errors import InvalidRequestError, JiuzhuError
from engine.service.facade import Engine
from integrations.partner import attach
from jiuzhu import replaying
from jiuzhu.accounts import ADMIN
from jiuzhu.api_common import (
    Actor,
    Caller,
    deploy_json,
    document_bodies,
    event_json,
    instance_json,
    json_body_doc,
    parse_body,
    version_json,
)
from jiuzhu.api_hygiene import REASON_LIMIT, TEXT_LIMIT, BodyLimit, JsonObject, JsonValue, chinese, error_body, errors
from jiuzhu.api_partner import outbox_router, partner_router
from jiuzhu.api_sla import sla_router
from jiuzhu.api_tokens import tokens_router
from jiuzhu.settings import Settings
from jiuzhu.web.api_guard import api_guard
from jiuzhu.web.api_studio import studio_router
from jiuzhu.web.api_studio_catalog import studio_catalog_router
from jiuzhu.web.api_studio_diff import studio_diff_router
from jiuzhu.web.api_studio_dry_run import studio_dry_run_router
from jiuzhu.web.api_studio_tools import studio_tools_router
from jiuzhu.web.app import install_web, page_error
from jiuzhu.web.auth import can_see_instance, task_guard
from jiuzhu.web.context import WebContext
from jiuzhu.web.starting import checked_unit, refuse_unless_starter
from jiuzhu.web.throttle import trust_proxies
from jiuzhu.wiring import build_web_context, deploy_sources

log = logging.getLogger("jiuzhu.api")

STATUS = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "unauthorized": 401,
    "unavailable": 503,  # a transaction over its budget, rolled back (integrations/sql/budget.py)
}
# Starlette's own refusals (no route, wrong method, an unreadable body) in the standard shape.
HTTP_ANSWERS = {
    400: ("REQUEST_BODY_UNREADABLE", "请求体无法解析：须为 UTF-8 编码的 JSON，且嵌套不能过深", "invalid"),
    404: ("NOT_FOUND", "没有这个接口", "not_found"),
    405: ("METHOD_NOT_ALLOWED", "此接口不支持该请求方法", "invalid"),
}


PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"  # no control characters in keys and codes


class StartRequest(BaseModel):
    data: JsonObject = Field(default_factory=dict, description="启动数据（JSON 对象），须为开始表单声明的字段")
    version: StrictInt | None = Field(default=None, ge=1, le=2**31 - 1, description="指定流程版本；缺省为最新版本")
    business_key: str | None = Field(
        default=None, max_length=TEXT_LIMIT, pattern=PLAIN_TEXT, description="业务编号，例如案件号"
    )
    org_unit: str | None = Field(
        default=None, max_length=TEXT_LIMIT, pattern=PLAIN_TEXT, description="经办单位代码，须在调用者管辖范围内"
    )
    region: str | None = Field(
        default=None,
        max_length=TEXT_LIMIT,
        pattern=PLAIN_TEXT,
        description="行政区划代码，决定适用的时限政策，例如 CN-ZJ-HZ；缺省为经办单位的区划",
    )


class CompleteRequest(BaseModel):
    data: JsonValue = Field(default_factory=dict, description="表单数据，按任务的 JSON Schema 校验")
    expected_revision: StrictInt | None = Field(
        default=None, ge=0, le=2**63 - 1, description="乐观并发：期望的实例修订号"
    )


class RetryRequest(BaseModel):
    data_patch: JsonObject = Field(default_factory=dict, description="修正后的数据，写入失败任务后重试")


class TerminateRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=REASON_LIMIT, description="终止原因")


def create_app(engine: Engine, settings: Settings, *, web_context: WebContext | None = None) -> FastAPI:
    app = FastAPI(title="救助 Jiuzhu", version="0.1.0", description="社会救助流程编排平台 API")
    app.state.engine = engine

    @app.exception_handler(JiuzhuError)
    async def jiuzhu_error(request: Request, exc: JiuzhuError) -> Response:
        status = STATUS.get(exc.kind, 500)
        if not request.url.path.startswith("/api"):
            return page_error(request, exc, status)
        return JSONResponse(exc.to_dict(), status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if not request.url.path.startswith("/api"):
            return await http_exception_handler(request, exc)
        code, message, kind = HTTP_ANSWERS.get(exc.status_code, ("REQUEST_REFUSED", "请求无法处理", "invalid"))
        body = error_body(code, message, kind)
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith("/api"):
            return page_error(request, InvalidRequestError("请求参数不正确，请检查后重试"), 422)
        problems = [
            {
                "code": "REQUEST_INVALID",
                "message": f"请求参数不正确：{chinese(e)}",
                "field": "/".join(map(str, e.get("loc", ()))),
            }
            for e in exc.errors()
        ]
        unparsed = any(e.get("type") == "json_invalid" for e in exc.errors())
        message = "请求体不是有效的 JSON" if unparsed else "请求格式不正确"
        return JSONResponse(error_body("REQUEST_INVALID", message, "invalid", problems), status_code=422)

    @app.exception_handler(DataError)
    async def data_error(_request: Request, _exc: DataError) -> JSONResponse:
        # The database refused a value the schema let through (a NUL byte, an
        # out-of-range number): the request was bad, not the server.
        body = {
            "code": "REQUEST_INVALID",
            "message": "请求中含有无法保存的值（例如空字符或超出范围的数字）",
            "kind": "invalid",
            "problems": [],
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        body = {"code": "INTERNAL", "message": "服务器内部错误，已记录日志", "kind": "internal", "problems": []}
        return JSONResponse(body, status_code=500)

    context = web_context or build_web_context(engine, settings)
    install_web(app, context)
    app.add_middleware(BodyLimit)
    trust_proxies(app, settings.trusted_proxies)  # outermost: everything inside sees the client's address
    # Every /api route answers 401 without a principal, 403 outside its roles,
    # 413 past the body limit, 422 for a parameter out of bounds and 503 for a step
    # over its transaction budget (rolled back) or cut short by shutdown.
    api = APIRouter(
        prefix="/api", dependencies=[Depends(api_guard(settings))], responses=errors(401, 403, 413, 422, 503)
    )

    @api.post("/deployments", status_code=201, summary="部署流程模型与表单", responses=errors(400))
    async def deploy(
        files: Annotated[list[UploadFile], File(description="BPMN、DMN 与表单 JSON 文件")], who: Actor
    ) -> dict[str, Any]:
        sources = [SourceFile(f.filename or f"file{i}", await f.read()) for i, f in enumerate(files)]
        result, loaded = await run_in_threadpool(deploy_sources, engine, sources, actor=who)
        if result is None:
            return {"content_hash": None, "created": False, "versions": [], "documentation_only": [], "warnings": [],
                    "policies": [f"{p.id}@{p.version}" for p in loaded]}  # fmt: skip
        return deploy_json(result)

    @api.get("/processes", summary="流程及其版本")
    def processes() -> list[dict[str, Any]]:
        return [version_json(v) for v in engine.versions()]

    @api.get("/processes/{process_id}/versions", summary="某流程的全部版本", responses=errors(404))
    def versions(process_id: str) -> list[dict[str, Any]]:
        return [version_json(v) for v in engine.versions(process_id)]

    @api.post(
        "/processes/{process_id}/instances", status_code=201, summary="发起流程实例", responses=errors(400, 404, 409)
    )
    def start(process_id: str, body: StartRequest, who: Actor, caller: Caller) -> dict[str, Any]:
        if not caller.is_system:  # a person, signed in or by their own token: the model's starterRoles
            refuse_unless_starter(caller, engine.versions(process_id), body.version)
        directory = context.directory()
        org_unit = checked_unit(caller, directory, body.org_unit)
        unit = directory.unit(org_unit)
        view = engine.start(
            process_id,
            body.data,
            actor=who,
            version=body.version,
            business_key=body.business_key,
            org_unit=org_unit,
            region=body.region or (unit.region if unit else None),
            strict=True,
        )
        return instance_json(view)

    @api.get("/instances", summary="实例列表")
    def instances(
        caller: Caller,
        process_id: str | None = None,
        status: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ) -> list[dict[str, Any]]:
        # The scope is part of the query: a page of ``limit`` holds visible cases only.
        scope = None if caller.has(ADMIN) else (caller.scope or ())
        records = engine.list_instances(
            process_id=process_id, status=status, limit=limit, offset=offset, org_units=scope
        )
        return [
            {"id": r.id, "process_id": r.process_id, "version": r.version, "status": r.status, "revision": r.revision}
            for r in records
            if can_see_instance(caller, r)
        ]

    @api.get("/instances/{instance_id}", summary="实例状态", responses=errors(404))
    def instance(instance_id: str) -> dict[str, Any]:
        return instance_json(engine.get(instance_id))

    @api.get("/instances/{instance_id}/tasks", summary="待办任务", responses=errors(404))
    def tasks(instance_id: str) -> list[dict[str, Any]]:
        ready: list[dict[str, Any]] = instance_json(engine.get(instance_id))["ready_tasks"]
        return ready

    @api.post(
        "/instances/{instance_id}/tasks/{task_id}/complete",
        summary="办理任务（提交表单）",
        response_model=dict[str, Any],
        responses=errors(400, 404, 409),
        openapi_extra=json_body_doc(CompleteRequest),
    )
    async def complete(instance_id: str, task_id: str, request: Request, who: Actor, caller: Caller) -> Response:
        # The busiest route, kept lean: FastAPI's body parameter and a returned
        # dict (validated in a second thread-pool trip) cost more than the
        # engine's own bookkeeping (bench/engine_overhead.py). Authorization
        # runs inside the step's transaction, not in reads of its own.
        body = await parse_body(request, CompleteRequest)

        guard = task_guard(caller)

        def run() -> Response:
            view = engine.complete_task(
                instance_id, task_id, body.data, actor=who, expected_revision=body.expected_revision, guard=guard
            )
            return JSONResponse(instance_json(view))

        return await run_in_threadpool(run)

    @api.post("/instances/{instance_id}/retry", summary="修正数据后重试故障任务", responses=errors(400, 404, 409))
    def retry(instance_id: str, body: RetryRequest, who: Actor) -> dict[str, Any]:
        return instance_json(engine.retry_incident(instance_id, body.data_patch, actor=who))

    @api.post("/instances/{instance_id}/terminate", summary="终止实例", responses=errors(400, 404, 409))
    def terminate(instance_id: str, body: TerminateRequest, who: Actor) -> dict[str, Any]:
        return instance_json(engine.terminate(instance_id, body.reason, actor=who))

    @api.get("/instances/{instance_id}/events", summary="审计事件", responses=errors(404))
    def events(instance_id: str) -> list[dict[str, Any]]:
        return [event_json(e) for e in engine.events(instance_id)]

    @api.get("/instances/{instance_id}/verify", summary="校验审计链", responses=errors(404))
    def verify_one(instance_id: str) -> dict[str, Any]:
        engine.get(instance_id)
        verdict = engine.verify(instance_id)[0]
        return {
            "ok": verdict.ok,
            "events": verdict.events,
            "broken_seq": verdict.broken_seq,
            "reason": verdict.reason,
            "code": verdict.code,
        }

    @api.get("/verify", summary="校验全部审计链")
    def verify_all() -> dict[str, Any]:
        verdicts = engine.verify()
        broken = [v for v in verdicts if not v.ok]
        return {
            "ok": not broken,
            "chains": len(verdicts),
            "broken": [
                {"chain_id": v.chain_id, "broken_seq": v.broken_seq, "reason": v.reason, "code": v.code} for v in broken
            ],
        }

    @api.post("/audit/instances/{instance_id}/replay", summary="复算案件：重新执行并比对每条审计事件",
              responses=errors(400, 404))  # fmt: skip
    def replay(instance_id: str, who: Actor) -> dict[str, Any]:
        return replaying.replay_case(engine, instance_id, actor=who).to_dict()

    @api.get("/audit/digest-key", summary="审计链头签名摘要的公钥（未配置密钥时为 null）")
    def digest_key() -> dict[str, Any]:
        anchors = engine.anchors
        return {"algorithm": ALGORITHM, "public_key": anchors.keys.public_key if anchors is not None else None}

    @api.post("/timers/fire", summary="立即处理到期定时器")
    def fire() -> dict[str, int]:
        return {"instances": engine.fire_due_timers()}

    api.include_router(sla_router(engine))
    api.include_router(outbox_router(engine))
    api.include_router(tokens_router())
    api.include_router(studio_tools_router(engine))
    api.include_router(studio_catalog_router(engine, settings))
    api.include_router(studio_diff_router(engine, settings))
    api.include_router(studio_dry_run_router(settings))
    api.include_router(studio_router())
    app.include_router(api)
    app.include_router(partner_router(engine, attach(engine)), responses=errors(400, 401, 404, 409, 413, 422, 503))
    document_bodies(app, CompleteRequest)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        # Async and pre-serialized: a liveness probe must not queue behind
        # busy thread-pool workers.
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app
