"""Opening a case, for the web's 新建申请 and the API alike: who may start
which procedure (as its deployed model says), and in which org unit.

A case belongs to an org unit that exists and that the starter may act for;
a case in an unknown unit is one nobody can see. Only when no org unit is
known at all (the API alone on a bare database, no accounts loaded) is the
unit left to the caller, as before accounts existed.
"""

from __future__ import annotations

from engine.errors import InvalidRequestError, Location
from engine.ports import VersionRecord
from integrations.ports import OrgUnit
from jiuzhu.accounts import ADMIN, Directory
from jiuzhu.web.auth import Viewer, forbid, in_scope

# The roles whose users open cases in the web at all (the 新建申请 page's gate
# and menu entry). Which procedure each may start is the model's: the start
# event's ``starterRoles`` (engine/deploy/starters.py), read from the version.
START_ROLES = ("village_assistant", "township_handler", ADMIN)
CASE_UNIT_KINDS = ("village", "township")  # where a household's case is kept


def starter_roles(version: VersionRecord) -> tuple[str, ...]:
    """The deployed version's ``starterRoles`` (none: no person starts it)."""
    roles = version.definition.get("starter_roles") or ()
    return tuple(str(r) for r in roles)


def may_start(viewer: Viewer, version: VersionRecord) -> bool:
    """A person may start the version if the model names one of their roles;
    an administrator any version that people start at all."""
    roles = starter_roles(version)
    return bool(roles) and (viewer.has(ADMIN) or viewer.has(*roles))


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


def refuse_unless_starter(viewer: Viewer, versions: list[VersionRecord], version: int | None) -> None:
    """A person starting through the API (signed in, or by their own API token),
    like one on 新建申请: the version started (the newest unless ``version`` is
    given) must name one of the user's roles in ``starterRoles``. An
    administrator starts any procedure; the system token is not held to it."""
    if viewer.has(ADMIN) or not versions:
        return  # no such process: the engine answers PROCESS_NOT_FOUND
    if version is None:
        chosen: VersionRecord | None = max(versions, key=lambda v: v.version)
    else:
        chosen = next((v for v in versions if v.version == version), None)
    if chosen is not None and not may_start(viewer, chosen):
        raise forbid(f"您的角色不能发起「{chosen.name}」")
