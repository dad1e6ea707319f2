"""API 令牌 pages: a user issues and revokes her own tokens (the secret shown
once), an administrator anyone's and the system tokens; every issue and
revocation is on the system audit chain with the person who did it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from engine.service.facade import Engine
from tests.support.web_support import WebWorld, csrf_of, make_world

SECRET = re.compile(r'data-testid="token-secret">(jzt_[0-9a-f]+_[\w-]+)<')


@pytest.fixture
def world(make_engine_for: Callable[..., Engine], db_url: str) -> WebWorld:
    return make_world(make_engine_for, db_url)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def system_chain(world: WebWorld) -> list[tuple[str, str | None, dict[str, Any]]]:
    with world.engine.store.reader() as unit:
        return [(e.type, e.actor, e.payload) for e in unit.events("_system") if e.type.startswith("api_token_")]


def test_a_user_issues_uses_and_revokes_her_own_token(world: WebWorld) -> None:
    client = world.signed_in("xl_yangliu")
    inbox = client.get("/inbox")
    assert 'href="/account/tokens"' in inbox.text  # in the user's own menu
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "还没有 API 令牌" in page.text and "全部令牌" not in page.text

    made = client.post("/account/tokens", data={"name": "台账导出脚本", "csrf_token": csrf_of(page.text)})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    found = SECRET.search(made.text)
    assert found, made.text
    token = found.group(1)
    assert "离开本页后将无法再次查看" in made.text

    # The token is her: her tokens over the API, her name on what it does.
    api = world.client()
    [listed] = api.get("/api/tokens", headers=bearer(token)).json()
    assert (listed["name"], listed["username"], listed["principal"]) == ("台账导出脚本", "xl_yangliu", "xl_yangliu")
    again = client.get("/account/tokens")
    assert "台账导出脚本" in again.text and token not in again.text  # shown once, never again
    assert "有效" in again.text and listed["id"] in again.text

    revoked = client.post(f"/account/tokens/{listed['id']}/revoke", data={"csrf_token": csrf_of(again.text)})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/account/tokens"
    after = client.get("/account/tokens")
    assert "已吊销 API 令牌「台账导出脚本」" in after.text and "已吊销" in after.text
    refused = api.get("/api/processes", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["code"] == "API_TOKEN_INVALID"

    assert system_chain(world) == [
        (
            "api_token_created",
            "xl_yangliu",
            {"token_id": listed["id"], "name": "台账导出脚本", "username": "xl_yangliu"},
        ),
        (
            "api_token_revoked",
            "xl_yangliu",
            {"token_id": listed["id"], "name": "台账导出脚本", "username": "xl_yangliu"},
        ),
    ]


def test_a_nameless_token_is_refused_on_the_page(world: WebWorld) -> None:
    client = world.signed_in("jb_dongcheng")
    page = client.get("/account/tokens")
    r = client.post("/account/tokens", data={"name": "   ", "csrf_token": csrf_of(page.text)})
    assert r.status_code == 422 and "令牌名称须为 1 至 100 个字符" in r.text
    assert SECRET.search(r.text) is None and system_chain(world) == []


def test_an_administrator_manages_anyones_and_system_tokens(world: WebWorld) -> None:
    admin = world.signed_in("admin")
    page = admin.get("/admin/tokens")
    assert page.status_code == 200 and "系统令牌" in page.text
    csrf = csrf_of(page.text)
    system = admin.post("/admin/tokens", data={"name": "nightly-export", "holder": "system", "csrf_token": csrf})
    found = SECRET.search(system.text)
    assert system.status_code == 200 and found and "system:nightly-export" in system.text
    for_user = admin.post("/admin/tokens", data={"name": "代办", "holder": "jb_dongcheng", "csrf_token": csrf})
    user_found = SECRET.search(for_user.text)
    assert for_user.status_code == 200 and user_found

    api = world.client()
    me = api.get("/api/tokens", headers=bearer(user_found.group(1))).json()
    assert [t["principal"] for t in me] == ["jb_dongcheng"]
    case = world.start("qinghe.dongcheng.yangliu")
    started = api.get(f"/api/instances/{case}", headers=bearer(found.group(1)))
    assert started.status_code == 200  # a system token has the admin's scope

    # Someone else's token is not the handler's to revoke (404, as if absent); the administrator's it is.
    other = world.signed_in("jb_xiwan")
    listing = other.get("/account/tokens")
    token_id = me[0]["id"]
    assert (
        other.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(listing.text)}).status_code == 404
    )
    r = admin.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin/tokens"
    assert "已吊销" in admin.get("/admin/tokens").text
    assert api.get("/api/processes", headers=bearer(user_found.group(1))).status_code == 401

    assert [(t, a, p.get("username"), p.get("system")) for t, a, p in system_chain(world)] == [
        ("api_token_created", "admin", None, True),
        ("api_token_created", "admin", "jb_dongcheng", None),
        ("api_token_revoked", "admin", "jb_dongcheng", None),
    ]
    assert world.signed_in("jb_dongcheng").get("/admin/tokens").status_code == 403
