"""The menu: each entry with the rule its page opens by, so that nobody is
shown an entry that answers 403 (a designer sees no 案件 or 统计, a partner
department only 联办待办)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from jiuzhu.accounts import ADMIN, DESIGNER, PARTNER_SIDE
from jiuzhu.web.auth import AUDIT_ROLES, CASE_ROLES, Viewer
from jiuzhu.web.starting import START_ROLES


@dataclass(frozen=True)
class Entry:
    href: str
    label: str
    opens: Callable[[Viewer], bool]  # the page's own gate, as a question


def _partner(viewer: Viewer) -> bool:
    return viewer.department is not None and viewer.has(*PARTNER_SIDE)


def _caseworker(viewer: Viewer) -> bool:
    return viewer.department is None  # a partner department works only on its handoffs


MENU = (
    Entry("/cases/new", "新建申请", lambda v: _caseworker(v) and v.has(*START_ROLES)),  # pages_start.Starter
    Entry("/inbox", "待办", _caseworker),  # pages_inbox.inbox: partners are sent to /partner
    Entry("/cases", "案件", lambda v: v.has(*CASE_ROLES)),  # deps.CurrentUser
    Entry("/dashboard", "统计", lambda v: v.has(*CASE_ROLES)),  # deps.CurrentUser
    Entry("/audit", "审计", lambda v: v.has(*AUDIT_ROLES)),  # pages_audit.Auditor
    Entry("/outbox", "推送投递", lambda v: v.has(ADMIN)),  # pages_outbox: require_role(ADMIN)
    Entry("/admin/sessions", "登录会话", lambda v: v.has(ADMIN)),  # pages_sessions: require_role(ADMIN)
    Entry("/admin/demo-clock", "演示时钟", lambda v: v.has(ADMIN)),  # demo mode only: the route exists then
    Entry("/partner", "联办待办", _partner),  # pages_partner.partner_user
    Entry("/studio", "流程设计", lambda v: v.has(DESIGNER, ADMIN)),  # pages_studio: studio_access.Designer
)


def menu_for(viewer: Viewer | None, paths: Collection[str]) -> list[tuple[str, str]]:
    """The entries ``viewer`` may open, among the routes the app has."""
    if viewer is None:
        return []
    return [(e.href, e.label) for e in MENU if e.href in paths and e.opens(viewer)]
