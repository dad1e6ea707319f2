"""SQL implementation of :class:`integrations.ports.AccountStore`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, delete, insert, select

from integrations.ports import OrgUnit, User
from integrations.sql.tables import OrgUnitRow, UserAccount

ORG = OrgUnitRow.__table__  # type: ignore[attr-defined]
U = UserAccount.__table__  # type: ignore[attr-defined]


class SqlAccounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def org_units(self) -> list[OrgUnit]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ORG).order_by(ORG.c.code)).all()
        return [OrgUnit(r.code, r.name, r.kind, r.parent, r.region, r.department) for r in rows]

    @staticmethod
    def _user(r: object) -> User:
        return User(
            r.username,  # type: ignore[attr-defined]
            r.display_name,  # type: ignore[attr-defined]
            tuple(r.roles.split()),  # type: ignore[attr-defined]
            r.org_unit,  # type: ignore[attr-defined]
            r.password_hash,  # type: ignore[attr-defined]
            bool(r.active),  # type: ignore[attr-defined]
        )

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [self._user(r) for r in conn.execute(select(U).order_by(U.c.username))]

    def find_user(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(U).where(U.c.username == username)).first()
        return self._user(row) if row else None

    def save_org_units(self, units: Sequence[OrgUnit]) -> None:
        """Replace the units with these codes (idempotent loading)."""
        with self.engine.begin() as conn:
            conn.execute(delete(ORG).where(ORG.c.code.in_([u.code for u in units])))
            if units:
                conn.execute(insert(ORG), [u.__dict__ for u in units])

    def save_users(self, users: Sequence[User]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(U).where(U.c.username.in_([u.username for u in users])))
            if users:
                rows = [
                    {
                        "username": u.username,
                        "display_name": u.display_name,
                        "roles": " ".join(u.roles),
                        "org_unit": u.org_unit,
                        "password_hash": u.password_hash,
                        "active": u.active,
                    }
                    for u in users
                ]
                conn.execute(insert(U), rows)
