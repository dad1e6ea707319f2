"""Users, roles and org units, and who may see what.

Roles are codes (``township_handler``); BPMN lanes name roles in Chinese
(``乡镇(街道)经办人``), as listed in ``demo/users.json`` ``roles``. Org scope is
by code prefix over the org-unit tree: a township sees its own code and its
villages (``qinghe.dongcheng`` → ``qinghe.dongcheng.yangliu``); a county
office (民政局, 核对中心, 协调机制) sees its whole county; a partner department
sees only the 联办 handoffs addressed to its ``department``, and its
supervisor (``partner_supervisor``) only that department's 督办.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from integrations.ports import AccountStore, OrgUnit, User

ADMIN, AUDITOR, PARTNER, DESIGNER = "admin", "auditor", "partner", "designer"
# The head of a partner department: receives its 督办, does not work its handoffs.
PARTNER_SUPERVISOR = "partner_supervisor"
PARTNER_SIDE = (PARTNER, PARTNER_SUPERVISOR)
COUNTY_WIDE_KINDS = ("county_office", "check_center", "coordination")
# Lanes that name more than one party; the part a caseworker acts for decides.
LANE_ALIASES = {"申请人/村(社区)协理员": "village_assistant"}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Directory:
    """The org tree and the role names: everything scope decisions need."""

    units: Mapping[str, OrgUnit]
    role_names: Mapping[str, str]  # role code → Chinese name (= BPMN lane name)

    def unit(self, code: str | None) -> OrgUnit | None:
        return self.units.get(code) if code else None

    def unit_name(self, code: str | None) -> str:
        unit = self.unit(code)
        return unit.name if unit else (code or "—")

    def scope_root(self, user: User) -> str:
        unit = self.units.get(user.org_unit)
        if unit is not None and unit.kind in COUNTY_WIDE_KINDS and unit.parent:
            return unit.parent
        return user.org_unit

    def scope(self, user: User) -> list[str] | None:
        """Org unit codes whose cases the user sees; None means every unit."""
        if user.has(ADMIN):
            return None
        if user.has(*PARTNER_SIDE) and not user.has(*(set(user.roles) - set(PARTNER_SIDE))):
            return []
        root = self.scope_root(user)
        return sorted(code for code in self.units if code == root or code.startswith(root + "."))

    def in_scope(self, user: User, org_unit: str | None) -> bool:
        scope = self.scope(user)
        return scope is None or (org_unit is not None and org_unit in scope)

    def department(self, user: User) -> str | None:
        unit = self.units.get(user.org_unit)
        return unit.department if unit and user.has(*PARTNER_SIDE) else None

    def lanes(self, user: User) -> list[str]:
        """BPMN lane names this user works in."""
        names = [self.role_names[r] for r in user.roles if r in self.role_names]
        names += [lane for lane, role in LANE_ALIASES.items() if role in user.roles]
        return names

    def lane_role(self, lane: str | None) -> str | None:
        if lane is None:
            return None
        if lane in LANE_ALIASES:
            return LANE_ALIASES[lane]
        return next((code for code, name in self.role_names.items() if name == lane), None)

    def role_label(self, code: str) -> str:
        return self.role_names.get(code, code)


def load_org_units(path: Path) -> list[OrgUnit]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    keys = OrgUnit.__dataclass_fields__
    return [OrgUnit(**{k: v for k, v in u.items() if k in keys}) for u in raw["org_units"]]


def load_demo_users(path: Path) -> tuple[dict[str, str], list[tuple[User, str]]]:
    """Role names and (user, clear-text password) pairs from ``demo/users.json``."""
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    users = [
        (
            User(u["username"], u["display_name"], tuple(u["roles"]), u["org_unit"], hash_password(u["password"])),
            u["password"],
        )
        for u in raw["users"]
    ]
    return dict(raw["roles"]), users


def role_names_from(path: Path) -> dict[str, str]:
    names: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["roles"]
    return names


def directory(store: AccountStore, role_names: Mapping[str, str]) -> Directory:
    return Directory({u.code: u for u in store.org_units()}, dict(role_names))


def by_username(users: Iterable[User]) -> dict[str, User]:
    return {u.username: u for u in users}


def demo_accounts_table(users: Sequence[tuple[User, str]], directory: Directory) -> str:
    """One line per role: the role's name and its demo accounts with their units."""
    lines = []
    for code, label in directory.role_names.items():
        holders = [u for u, _ in users if code in u.roles]
        if holders:
            shown = "，".join(f"{u.username}（{u.display_name}·{directory.unit_name(u.org_unit)}）" for u in holders)
            lines.append(f"  {label}：{shown}")
    return "\n".join(lines)
