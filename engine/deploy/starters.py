"""Who may start a process: the none start event's ``starterRoles`` property,
role codes separated by spaces or commas (``village_assistant township_handler``).

The roles a deployment may name come from the edge (the roles file,
``JIUZHU_ROLES_FILE``); an engine given none (a bare core in tests) checks
only that the names look like role codes. A process with a start form and no
``starterRoles`` deploys with a warning: no person may start it (only system
callers of the API and the engine itself, for a parent's ``start_process``).
An empty ``starterRoles`` says so on purpose (a process only a parent starts,
like ``yijianshi``) and is not warned about.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from engine.errors import Location, Problem

STARTERS_PROPERTY = "starterRoles"
ROLE_CODE = re.compile(r"[a-z][a-z0-9_]*")


def declared(properties: Mapping[str, Any]) -> list[str]:
    raw = properties.get(STARTERS_PROPERTY)
    return [name for name in re.split(r"[\s,，]+", str(raw or "")) if name]


def checked(
    properties: Mapping[str, Any], known: Collection[str] | None, where: Location
) -> tuple[tuple[str, ...], list[Problem]]:
    """The declared starter roles (deduplicated, in order) and a located problem per unknown one."""
    roles: list[str] = []
    problems: list[Problem] = []
    for name in declared(properties):
        if name in roles:
            continue
        if not ROLE_CODE.fullmatch(name) or (known is not None and name not in known):
            listed = "、".join(sorted(known)) if known else "小写英文角色代码，如 village_assistant"
            message = f"{STARTERS_PROPERTY} 中的角色「{name}」不存在（可用的角色：{listed}）"
            problems.append(Problem("STARTER_ROLE_UNKNOWN", message, where))
            continue
        roles.append(name)
    return tuple(roles), problems


def missing(where: Location) -> Problem:
    message = (
        f"开始事件有开始表单，但没有声明 {STARTERS_PROPERTY}：任何人都不能在新建申请中发起此流程"
        "（只有系统接口和上级流程可以启动它）"
    )
    return Problem("START_NO_STARTER_ROLES", message, where)
