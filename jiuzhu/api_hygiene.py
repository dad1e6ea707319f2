"""What the API refuses before any route runs, in the standard error shape:
bodies over the size limit (413) and malformed requests (422, located, in Chinese)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_BODY_LIMIT = 1024 * 1024  # a case's data is kilobytes; a megabyte is already abuse
UPLOAD_BODY_LIMIT = 32 * 1024 * 1024  # a deployment: models, forms and policies
TEXT_LIMIT = 100  # business keys, org unit codes and region codes


def error_body(code: str, message: str, kind: str, problems: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {"code": code, "message": message, "kind": kind, "problems": list(problems)}


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuses an ``/api`` request body over its limit with 413, whether the
    client announced its length or streams it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        multipart = headers.get("content-type", "").startswith("multipart/form-data")
        limit = UPLOAD_BODY_LIMIT if multipart else JSON_BODY_LIMIT
        announced = headers.get("content-length", "")
        if announced.isdigit() and int(announced) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    megabytes = limit / (1024 * 1024)
    body = error_body("BODY_TOO_LARGE", f"请求体过大：上限为 {megabytes:g} MB", "invalid")
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _plural(ctx: Mapping[str, Any], key: str) -> Any:
    return ctx.get(key, "?")


def chinese(error: Mapping[str, Any]) -> str:
    """One pydantic/FastAPI request error in Chinese."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    messages = {
        "json_invalid": "请求体不是有效的 JSON",
        "missing": "缺少必填项",
        "string_too_long": f"长度不能超过 {_plural(ctx, 'max_length')} 个字符",
        "string_too_short": f"长度不能少于 {_plural(ctx, 'min_length')} 个字符",
        "string_type": "应为文本",
        "int_parsing": "应为整数",
        "int_type": "应为整数",
        "dict_type": "应为 JSON 对象",
        "model_type": "应为 JSON 对象",
        "model_attributes_type": "应为 JSON 对象",
        "greater_than_equal": f"不能小于 {_plural(ctx, 'ge')}",
        "less_than_equal": f"不能大于 {_plural(ctx, 'le')}",
        "string_pattern_mismatch": "含有不允许的字符",
        "value_error": str(ctx.get("error", "取值不正确")),
    }
    return messages.get(kind, f"取值不正确（{error.get('msg', kind)}）")
