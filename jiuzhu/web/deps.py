"""The one seam between the case, dashboard and notice pages and sign-in.

Those pages ask only two questions: who is asking (:data:`CurrentUser`, a
signed-in user holding a case role) and
may they open this case (:func:`authorize_case`). Both are answered by the
caseworker web's role + org-scope rules (``jiuzhu.web.auth``); point these
two names elsewhere and the pages follow.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from engine.ports import InstanceRecord
from jiuzhu.web.auth import CASE_ROLES, Viewer, can_see_full_id, can_see_instance, forbid, in_scope, require_role

# Signed in with a role that works on or oversees cases (not a designer, not a partner department).
CurrentUser = Annotated[Viewer, Depends(require_role(*CASE_ROLES))]


def may_open(user: Viewer, record: InstanceRecord) -> bool:
    return can_see_instance(user, record)


def authorize_case(user: Viewer, record: InstanceRecord) -> None:
    """Raise 403 unless the case is within the user's role and org scope."""
    if not may_open(user, record):
        raise forbid("该案件不在您的管辖范围内")


def sees_full_id(user: Viewer, record: InstanceRecord) -> bool:
    return can_see_full_id(user, record)


def sees_org(user: Viewer, org_unit: str | None) -> bool:
    return in_scope(user, org_unit)


__all__ = ["CurrentUser", "Viewer", "authorize_case", "may_open", "sees_full_id", "sees_org"]
