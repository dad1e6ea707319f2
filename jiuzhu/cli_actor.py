"""Who an operator's shell command acts as, for the audit chain.

A shell with the database's address can do anything, so the operating-system
account is the principal a command is recorded under (``cli:root``). Naming
an account with ``--actor`` records that account instead, but only a real,
active one that holds a role the command needs: the record never names a user
who does not exist or could not have done it in the web.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence

from engine.errors import ForbiddenError, InvalidRequestError
from integrations.ports import AccountStore
from jiuzhu.accounts import ADMIN, DESIGNER

ACTOR_HELP = "以哪个账号的名义记入审计（须为有相应角色的有效账号）；不给则记为 cli:<系统用户>"
DEPLOY_ROLES = (DESIGNER, ADMIN)
ADMIN_ROLES = (ADMIN,)


def shell_principal() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (a bare container): still a shell, not a person
        return "cli:unknown"


def actor_for(accounts: AccountStore, claimed: str | None, roles: Sequence[str]) -> str:
    """The audit actor of a command run with ``--actor claimed`` (or none)."""
    if claimed is None:
        return shell_principal()
    user = accounts.find_user(claimed)
    if user is None or not user.active:
        raise InvalidRequestError(f"--actor：没有有效账号「{claimed}」", code="ACTOR_UNKNOWN")
    if not user.has(*roles):
        raise ForbiddenError(
            f"--actor：账号「{claimed}」没有执行此操作的角色（需要 {'、'.join(roles)} 之一）",
            code="ACTOR_NOT_ALLOWED",
        )
    return claimed
