"""Who an API token is, and who may issue, see and revoke tokens.

A token acts as its principal and nothing more: a user's token gets the
user's current roles and org scope (a user deactivated or deleted since makes
the token useless), a system token the admin's scope under
``system:<name>``. Users issue and revoke their own tokens; administrators
anyone's, and the system tokens. The API routes and the pages both decide
here.
"""

from __future__ import annotations

from engine.errors import ConflictError, InvalidRequestError, NotFoundError, UnauthorizedError
from integrations import api_tokens
from integrations.api_tokens import TokenInfo
from jiuzhu.accounts import ADMIN
from jiuzhu.web.auth import Viewer, forbid, system_viewer, viewer_for
from jiuzhu.web.context import WebContext


def principal(context: WebContext, info: TokenInfo) -> Viewer:
    if info.username is None:
        return system_viewer(info.name)
    user = context.accounts.find_user(info.username)
    if user is None or not user.active:
        raise UnauthorizedError("API 令牌所属账号已停用或不存在", code="API_TOKEN_INVALID")
    return viewer_for(user, context.directory())


def issue(
    context: WebContext, caller: Viewer, name: str, *, username: str | None = None, system: bool = False
) -> tuple[TokenInfo, str]:
    """A token for the caller, or (administrators) for ``username`` or a system token."""
    if system:
        if username is not None:
            raise InvalidRequestError("系统令牌不属于任何账号：username 与 system 只能给一个", code="API_TOKEN_TARGET")
        if not caller.has(ADMIN):
            raise forbid("只有管理员可以创建系统令牌")
        if api_tokens.checked_name(name) == context.settings.api_token_name:
            raise ConflictError(f"「{name}」是配置中系统令牌的名称，请换一个", code="API_TOKEN_NAME_TAKEN")
    else:
        if username is None:
            if caller.is_system:
                raise InvalidRequestError("系统令牌调用时须指明 username（为某账号）或 system", code="API_TOKEN_TARGET")
            username = caller.username
        if username != caller.username and not caller.has(ADMIN):
            raise forbid("只能为自己的账号创建 API 令牌")
        user = context.accounts.find_user(username)
        if user is None or not user.active:
            raise NotFoundError(f"没有有效账号「{username}」", code="USER_NOT_FOUND")
    return api_tokens.create(context.engine, name=name, username=None if system else username, actor=caller.username)


def may_manage(caller: Viewer, info: TokenInfo) -> bool:
    return caller.has(ADMIN) or (info.username is not None and info.username == caller.username)


def visible(context: WebContext, caller: Viewer, username: str | None = None) -> list[TokenInfo]:
    """The caller's own tokens; an administrator's view is every token (or one user's)."""
    if not caller.has(ADMIN):
        if username not in (None, caller.username):
            raise forbid("只能查看自己的 API 令牌")
        return api_tokens.listing(context.engine, username=caller.username)
    return api_tokens.listing(context.engine, username=username)


def withdraw(context: WebContext, caller: Viewer, token_id: str) -> TokenInfo:
    info = api_tokens.find(context.engine, token_id)
    if info is None or not may_manage(caller, info):
        # Someone else's token is as absent as one that never was: ids are not to be probed.
        raise NotFoundError("没有这个 API 令牌", code="API_TOKEN_NOT_FOUND")
    return api_tokens.revoke(context.engine, token_id, actor=caller.username)
