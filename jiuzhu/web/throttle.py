"""Login throttling per (username, client address), as the sign-in page needs
it; the database implementation is :class:`integrations.sql.throttle.SqlLoginThrottle`,
shared by every server process."""

from __future__ import annotations

from typing import Protocol


class LoginThrottle(Protocol):
    def blocked(self, username: str, address: str) -> bool: ...

    def failed(self, username: str, address: str) -> None: ...

    def succeeded(self, username: str, address: str) -> None: ...
