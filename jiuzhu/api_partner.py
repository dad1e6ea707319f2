"""The external-task API for partner systems (``/api/external``, partner API
keys) and the administrators' outbox view (under ``/api``, the API token)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from engine.service.facade import Engine
from integrations.partner import external, keys, webhooks
from integrations.partner.idempotency import Remember, once
from integrations.partner.keys import Partner
from integrations.partner.wake import HandoffSignal
from jiuzhu.api_common import Actor
from jiuzhu.api_hygiene import JsonObject, errors

Short = Annotated[str, Field(max_length=200)]  # tokens, ids and topic codes

# Policy values of the channel (seconds).
MAX_LEASE, MAX_WAIT, DB_POLL = 3600, 60, 1.0


class FetchRequest(BaseModel):
    worker_id: str = Field(min_length=1, max_length=100, description="工作者标识")
    topics: list[Short] = Field(default_factory=list, max_length=100, description="事项编码（如 power），空为全部")
    handoff_ids: list[Short] = Field(
        default_factory=list, max_length=100, description="只锁定这些推送（收到推送后确认用）"
    )
    max_tasks: StrictInt = Field(default=10, ge=1, le=100)
    lock_duration: StrictInt = Field(default=300, ge=1, le=MAX_LEASE, description="锁定时长（秒）")
    async_response_timeout: StrictInt = Field(default=0, ge=0, le=MAX_WAIT * 1000, description="长轮询等待（毫秒）")


class LockRequest(BaseModel):
    lock_token: Short
    lock_duration: StrictInt = Field(default=300, ge=1, le=MAX_LEASE)


class HandoffCompleteRequest(BaseModel):
    lock_token: Short
    result: JsonObject = Field(description="办理结果：granted、benefit、amount、amount_unit、effective_from、reason")


class ReturnRequest(BaseModel):
    lock_token: Short
    reason: str = Field(min_length=2, max_length=500, description="退回原因")


PARTNER_KEY = HTTPBearer(
    scheme_name="PartnerKey", description="联办部门 API 密钥：Authorization: Bearer jzp_…", auto_error=False
)


async def _authorization(
    request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(PARTNER_KEY)] = None
) -> str | None:
    return request.headers.get("authorization")


# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Auth = Annotated[str | None, Depends(_authorization)]
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def partner_router(engine: Engine, signal: HandoffSignal) -> APIRouter:
    router = APIRouter(prefix="/api/external", tags=["联办部门接口"])

    def who(authorization: str | None) -> Partner:
        token = authorization[7:] if authorization and authorization.startswith("Bearer ") else None
        return keys.authenticate(engine, token)

    @router.post("/fetch-and-lock", summary="获取并锁定待办推送（可长轮询）")
    async def fetch(body: FetchRequest, authorization: Auth, idempotency_key: Key = None) -> list[dict[str, Any]]:
        partner = await run_in_threadpool(who, authorization)
        lease = timedelta(seconds=body.lock_duration)

        def write(remember: Remember | None) -> dict[str, Any]:
            tasks = external.fetch_and_lock(
                engine,
                partner,
                worker_id=body.worker_id,
                topics=body.topics,
                handoff_ids=body.handoff_ids,
                max_tasks=body.max_tasks,
                lease=lease,
                remember=remember,
            )
            return {"tasks": tasks}

        deadline = time.monotonic() + body.async_response_timeout / 1000
        while True:
            async with signal.listening() as poked:
                got = await run_in_threadpool(once, engine, partner, idempotency_key, "fetch", body.model_dump(), write)
                left = deadline - time.monotonic()
                if got["tasks"] or left <= 0 or idempotency_key:
                    return list(got["tasks"])
                try:
                    await asyncio.wait_for(poked.wait(), timeout=min(left, DB_POLL))
                except TimeoutError:
                    pass

    @router.post("/{handoff_id}/extend-lock", summary="延长锁定")
    def extend(handoff_id: str, body: LockRequest, authorization: Auth, idempotency_key: Key = None) -> dict[str, Any]:
        partner = who(authorization)
        lease = timedelta(seconds=body.lock_duration)

        def write(remember: Remember | None) -> dict[str, Any]:
            return external.extend_lock(engine, partner, handoff_id, body.lock_token, lease=lease, remember=remember)

        return once(engine, partner, idempotency_key, f"extend/{handoff_id}", body.model_dump(), write)

    @router.post("/{handoff_id}/complete", summary="反馈办理结果")
    def complete(
        handoff_id: str, body: HandoffCompleteRequest, authorization: Auth, idempotency_key: Key = None
    ) -> dict[str, Any]:
        partner = who(authorization)

        def write(remember: Remember | None) -> dict[str, Any]:
            return external.complete(engine, partner, handoff_id, body.lock_token, body.result, remember)

        return once(engine, partner, idempotency_key, f"complete/{handoff_id}", body.model_dump(), write)

    @router.post("/{handoff_id}/return", summary="退回民政（说明原因）")
    def return_(
        handoff_id: str, body: ReturnRequest, authorization: Auth, idempotency_key: Key = None
    ) -> dict[str, Any]:
        partner = who(authorization)

        def write(remember: Remember | None) -> dict[str, Any]:
            return external.return_(engine, partner, handoff_id, body.lock_token, body.reason, remember)

        return once(engine, partner, idempotency_key, f"return/{handoff_id}", body.model_dump(), write)

    router.add_api_route("/{handoff_id}/fail", return_, methods=["POST"], summary="办理失败（同退回民政）")
    return router


def outbox_router(engine: Engine) -> APIRouter:
    router = APIRouter(prefix="/outbox", tags=["推送投递"])

    @router.get("", summary="推送事件及投递状态（status=dead 为死信）")
    def listing(
        status: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None,
    ) -> list[dict[str, Any]]:
        return webhooks.outbox(engine, status=status)

    @router.post("/{event_id}/requeue", summary="死信重新投递", responses=errors(404))
    def requeue(event_id: str, who: Actor) -> dict[str, str]:
        webhooks.requeue(engine, event_id, actor=who)
        return {"id": event_id, "status": "pending"}

    return router
