"""What the API refuses before any route runs, in the standard error shape:
bodies over the size limit (413), bodies that cannot be read (400) and
malformed requests (422, located, in Chinese); the bounded input types the
routes declare (JSON nesting, dates within 1900–2100); and the error answers
as the OpenAPI document declares them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_BODY_LIMIT = 1024 * 1024  # a case's data is kilobytes; a megabyte is already abuse
UPLOAD_BODY_LIMIT = 32 * 1024 * 1024  # a deployment: models, forms and policies
TEXT_LIMIT = 100  # business keys, org unit codes and region codes
REASON_LIMIT = 2000  # a reason or a name typed by a person
JSON_DEPTH_LIMIT = 32  # a household's data nests a handful of levels; hundreds only crash recursive code
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)  # the calendar's range; beyond it dates overflow


def error_body(code: str, message: str, kind: str, problems: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {"code": code, "message": message, "kind": kind, "problems": list(problems)}


class ErrorProblem(BaseModel):
    """One located finding of an error answer."""

    code: str
    message: str
    file: str | None = None
    element_id: str | None = None
    element_tag: str | None = None
    field: str | None = None
    line: int | None = None


class ErrorBody(BaseModel):
    """Every 4xx answer of the API: a stable ``code``, a Chinese ``message``,
    the ``kind`` and the located ``problems``."""

    code: str = Field(description="稳定的错误代码，例如 REQUEST_INVALID")
    message: str = Field(description="中文说明")
    kind: str = Field(description="invalid | not_found | conflict | forbidden | unauthorized")
    problems: list[ErrorProblem] = Field(description="逐项定位的问题（文件、元素、字段）")


ERROR_ANSWERS: dict[int, str] = {
    400: "请求体无法解析（不是 UTF-8 编码的 JSON，或嵌套过深）",
    401: "未认证：缺少或错误的 API 令牌",
    403: "无权：角色或管辖范围不允许",
    404: "所指的对象不存在",
    409: "冲突：修订号不符或状态已变",
    413: "请求体过大",
    422: "请求参数或数据不正确（逐项定位）",
    429: "请求过多",
    503: "暂不可用：本次办理超过事务时限或服务正在停止，已回滚，可稍后重试",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these error statuses, each with the error schema."""
    return {status: {"model": ErrorBody, "description": ERROR_ANSWERS[status]} for status in statuses}


def _shallow(value: Any) -> Any:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > JSON_DEPTH_LIMIT:
                    raise ValueError(f"嵌套层级过深：最多 {JSON_DEPTH_LIMIT} 层")
                stack.append((child, depth + 1))
    return value


# Free-form JSON (case data, a data patch, a partner's result, a holiday schedule),
# nested at most JSON_DEPTH_LIMIT deep.
JsonObject = Annotated[dict[str, Any], AfterValidator(_shallow)]
JsonValue = Annotated[Any, AfterValidator(_shallow)]


def _in_range(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"日期须在 {FIRST_DAY.isoformat()} 至 {LAST_DAY.isoformat()} 之间")
    return day


DAY_SCHEMA = {
    "type": "string",
    "format": "date",
    "pattern": r"^(19[0-9]{2}|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$",
    "formatMinimum": FIRST_DAY.isoformat(),
    "formatMaximum": LAST_DAY.isoformat(),
}
# A calendar day within 1900-01-01 … 2100-12-31, declared as such in the OpenAPI.
Day = Annotated[date, AfterValidator(_in_range), WithJsonSchema(DAY_SCHEMA)]


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
