"""Login throttling keyed on the account and on the client address, as the
sign-in page needs it; the database implementation is
:class:`integrations.sql.throttle.SqlLoginThrottle`, shared by every server
process. The address is the connection's peer, or what ``X-Forwarded-For``
says only when the peer is one of ``JIUZHU_TRUSTED_PROXIES`` (see
:func:`trust_proxies`): a header anyone can send names nobody."""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import FastAPI, Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


class LoginThrottle(Protocol):
    def blocked(self, username: str, address: str) -> bool: ...

    def failed(self, username: str, address: str) -> None: ...

    def succeeded(self, username: str, address: str) -> None: ...


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


def trust_proxies(app: FastAPI, proxies: tuple[str, ...]) -> None:
    """Take the client address (and scheme) from the forwarding headers sent
    by ``proxies`` only, and from nobody when there are none. The middleware
    uvicorn would apply, here in the app (outermost) so that every server it
    runs under, and the tests, agree; ``jiuzhu serve`` turns uvicorn's own
    off (:data:`UVICORN_PROXY_OPTIONS`)."""
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(proxies))


# uvicorn's default trusts X-Forwarded-For from 127.0.0.1, i.e. from anyone who
# reaches the port through a local proxy or tunnel; the app applies
# JIUZHU_TRUSTED_PROXIES itself, so uvicorn trusts nobody.
UVICORN_PROXY_OPTIONS: dict[str, Any] = {"proxy_headers": False}
