"""Opening a case, for the web's 新建申请 and the API alike: who may start
which procedure, and in which org unit.

A case belongs to an org unit that exists and that the starter may act for;
a case in an unknown unit is one nobody can see. Only when no org unit is
known at all (the API alone on a bare database, no accounts loaded) is the
unit left to the caller, as before accounts existed.
"""

from __future__ import annotations

from engine.errors import InvalidRequestError, Location
from integrations.ports import OrgUnit
from jiuzhu.accounts import ADMIN, Directory
from jiuzhu.web.auth import Viewer, forbid, in_scope

# Who opens which procedure in the web: a person's application is filed by the
# village assistant or at the township window; 一事一议 is referred by the township.
START_ROLES = ("village_assistant", "township_handler", ADMIN)
STARTABLE: dict[str, tuple[str, ...]] = {
    "dibao": ("village_assistant", "township_handler"),
    "linshi_jinan": ("village_assistant", "township_handler"),
    "linshi_zhichu": ("village_assistant", "township_handler"),
    "yishiyiyi": ("township_handler",),
}
CASE_UNIT_KINDS = ("village", "township")  # where a household's case is kept


def may_start(viewer: Viewer, process_id: str) -> bool:
    roles = STARTABLE.get(process_id)
    return roles is not None and (viewer.has(ADMIN) or viewer.has(*roles))


def units_for(viewer: Viewer, directory: Directory) -> list[OrgUnit]:
    """The units the viewer may open a case in, their own first."""
    units = [u for u in directory.units.values() if u.kind in CASE_UNIT_KINDS and in_scope(viewer, u.code)]
    return sorted(units, key=lambda u: (u.code != viewer.org_unit, u.code))


def checked_unit(viewer: Viewer, directory: Directory, org_unit: str | None) -> str | None:
    """``org_unit`` if a case may be opened there by ``viewer``; raises a located error otherwise."""
    if not directory.units:
        if not in_scope(viewer, org_unit):
            raise forbid("只能在本单位管辖范围内发起案件")
        return org_unit
    where = Location(field="org_unit")
    if not org_unit:
        raise InvalidRequestError("请选择经办单位（org_unit）", code="ORG_UNIT_REQUIRED", location=where)
    unit = directory.unit(org_unit)
    if unit is None:
        raise InvalidRequestError(f"经办单位「{org_unit}」不存在", code="ORG_UNIT_UNKNOWN", location=where)
    if not in_scope(viewer, org_unit):
        raise forbid(f"只能在本单位管辖范围内发起案件，「{unit.name}」不在您的管辖范围内")
    return org_unit
