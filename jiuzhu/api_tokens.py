"""``/api/tokens``: API tokens, issued and revoked by their user or an administrator."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictBool

from integrations.api_tokens import NAME_LIMIT, TokenInfo
from jiuzhu.api_common import Caller
from jiuzhu.api_hygiene import errors
from jiuzhu.web.context import web
from jiuzhu.web.token_policy import issue, visible, withdraw


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=NAME_LIMIT, description="令牌名称，例如用途")
    username: str | None = Field(default=None, max_length=200, description="为哪个账号创建（管理员）；缺省为调用者本人")
    system: StrictBool = Field(default=False, description="系统令牌（管理员）：以 system:<名称> 调用，管理员范围")


def token_json(info: TokenInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "username": info.username,
        "system": info.system,
        "principal": info.principal,
        "created_at": info.created_at.isoformat(),
        "created_by": info.created_by,
        "last_used_at": info.last_used_at.isoformat() if info.last_used_at else None,
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
        "revoked_by": info.revoked_by,
    }


def tokens_router() -> APIRouter:
    router = APIRouter()

    @router.get("/tokens", summary="API 令牌列表（本人的；管理员可看全部或某账号的）", responses=errors(404))
    def tokens(request: Request, caller: Caller, username: str | None = None) -> list[dict[str, Any]]:
        return [token_json(t) for t in visible(web(request), caller, username)]

    @router.post(
        "/tokens", status_code=201, summary="创建 API 令牌（令牌只在此响应中出现一次）", responses=errors(400, 404, 409)
    )
    def create(request: Request, body: TokenRequest, caller: Caller) -> dict[str, Any]:
        info, token = issue(web(request), caller, body.name, username=body.username, system=body.system)
        return {**token_json(info), "token": token}

    @router.post("/tokens/{token_id}/revoke", summary="吊销 API 令牌（立即失效）", responses=errors(404, 409))
    def revoke(request: Request, token_id: str, caller: Caller) -> dict[str, Any]:
        return token_json(withdraw(web(request), caller, token_id))

    return router
