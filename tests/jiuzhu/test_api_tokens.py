"""Per-user and system API tokens on the real 低保 procedure: a token acts as
its principal (the user's roles and org scope, or ``system:<name>`` with the
admin's), the audit actor is that principal and nothing a header says, a
revoked token is refused, and issuing and revoking are on the system chain."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from engine.clock import FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import load_households, opening
from tests.support.start_world import real_world
from tests.support.web_support import TOKEN, WebWorld

HOUSEHOLD = load_households()["刘桂芳"]
MACHINE = {"Authorization": f"Bearer {TOKEN}"}
YANGLIU = "qinghe.dongcheng.yangliu"  # a village of 东城街道


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    return real_world(make_store, clock, db_url)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(world: WebWorld, name: str, **target: Any) -> dict[str, Any]:
    """A token made by the configured system token (admin scope) for ``target``."""
    r = world.client().post("/api/tokens", json={"name": name, **target}, headers=MACHINE)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


def system_chain(world: WebWorld) -> list[tuple[str, str | None, dict[str, Any]]]:
    with world.engine.store.reader() as unit:
        return [(e.type, e.actor, e.payload) for e in unit.events("_system") if e.type.startswith("api_token_")]


def test_a_village_assistants_token_acts_with_her_roles_and_scope(world: WebWorld) -> None:
    mine = bearer(issue(world, "村里的录入脚本", username="xl_yangliu")["token"])
    other = bearer(issue(world, "上庄的脚本", username="xl_shangzhuang")["token"])  # 西湾镇, another township
    client = world.client()

    started = client.post("/api/processes/dibao/instances", json={"data": opening(HOUSEHOLD), "org_unit": YANGLIU},
                          headers={**mine, "X-Actor": "mz_county"})  # fmt: skip
    assert started.status_code == 201, started.text
    case = started.json()["id"]
    assert [(e.type, e.actor) for e in world.engine.events(case)][:1] == [("instance_started", "xl_yangliu")]

    # Her token is her: the case in her village is hers to see, nothing beyond her roles.
    assert client.get(f"/api/instances/{case}", headers=mine).status_code == 200
    assert client.post("/api/timers/fire", headers=mine).status_code == 403
    assert client.get("/api/verify", headers=mine).status_code == 403
    assert client.post("/api/tokens", json={"name": "x", "system": True}, headers=mine).status_code == 403

    # Another township's 协理员 neither sees the case nor finds it in a list.
    refused = client.get(f"/api/instances/{case}", headers=other)
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert "管辖范围" in refused.json()["message"]
    assert client.get(f"/api/instances/{case}/events", headers=other).status_code == 403
    assert case not in {r["id"] for r in client.get("/api/instances", headers=other).json()}
    elsewhere = {"data": opening(load_households()["王德顺"]), "org_unit": YANGLIU}
    assert client.post("/api/processes/dibao/instances", json=elsewhere, headers=other).status_code == 403


def test_the_actor_is_the_principal_whatever_x_actor_says(world: WebWorld) -> None:
    handler = bearer(issue(world, "受理台", username="jb_dongcheng")["token"])
    sync = issue(world, "ledger-sync", system=True)
    assert (sync["principal"], sync["username"], sync["system"]) == ("system:ledger-sync", None, True)
    client = world.client()
    body = {"data": opening(HOUSEHOLD), "org_unit": YANGLIU}
    case = client.post(
        "/api/processes/dibao/instances", json=body, headers={**bearer(sync["token"]), "X-Actor": "xl_yangliu"}
    )
    assert case.status_code == 201, case.text
    iid = case.json()["id"]
    # A system token keeps the admin's scope that machine clients rely on, under its own name.
    assert client.get(f"/api/instances/{iid}", headers=bearer(sync["token"])).status_code == 200
    terminated = client.post(f"/api/instances/{iid}/terminate", json={"reason": "重复申请"},
                             headers={**handler, "X-Actor": "admin"})  # fmt: skip
    assert terminated.status_code == 403  # a 经办人 is no county officer, whatever the header claims
    done = client.post(f"/api/instances/{iid}/terminate", json={"reason": "重复申请"},
                       headers={**bearer(sync["token"]), "X-Actor": "mz_county"})  # fmt: skip
    assert done.status_code == 200, done.text
    actors = {e["type"]: e["actor"] for e in client.get(f"/api/instances/{iid}/events", headers=MACHINE).json()}
    assert actors["instance_started"] == "system:ledger-sync"
    assert actors["instance_terminated"] == "system:ledger-sync"
    # The configured token is a system token too, named by JIUZHU_API_TOKEN_NAME.
    assert {e[1] for e in system_chain(world)} == {"system:machine"}


def test_a_revoked_token_is_refused_with_a_chinese_401(world: WebWorld, clock: FixedClock) -> None:
    made = issue(world, "临时", username="jb_dongcheng")
    client = world.client()
    assert client.get("/api/processes", headers=bearer(made["token"])).status_code == 200
    listed = {
        t["id"]: t for t in client.get("/api/tokens", params={"username": "jb_dongcheng"}, headers=MACHINE).json()
    }
    assert listed[made["id"]]["last_used_at"] is not None and "token" not in listed[made["id"]]

    # Only the holder or an administrator revokes; to anyone else the token does not exist.
    other = bearer(issue(world, "别人的", username="jb_xiwan")["token"])
    assert client.post(f"/api/tokens/{made['id']}/revoke", headers=other).status_code == 404
    own = client.post(f"/api/tokens/{made['id']}/revoke", headers=bearer(made["token"]))
    assert own.status_code == 200 and own.json()["revoked_by"] == "jb_dongcheng"

    clock.advance(timedelta(seconds=1))
    r = client.get("/api/processes", headers=bearer(made["token"]))
    assert r.status_code == 401
    assert set(r.json()) >= {"code", "message", "kind"}
    assert (r.json()["code"], r.json()["kind"]) == ("API_TOKEN_INVALID", "unauthorized")
    assert "吊销" in r.json()["message"]
    assert client.get("/api/processes", headers=bearer(made["token"][:-2] + "xx")).status_code == 401
    assert client.get("/api/processes", headers=bearer("some-old-shared-token")).status_code == 401

    events = system_chain(world)
    assert [(t, a) for t, a, _ in events] == [
        ("api_token_created", "system:machine"),
        ("api_token_created", "system:machine"),
        ("api_token_revoked", "jb_dongcheng"),
    ]
    assert events[0][2] == {"token_id": made["id"], "name": "临时", "username": "jb_dongcheng"}


def test_only_a_hash_of_the_token_is_stored(world: WebWorld) -> None:
    made = issue(world, "存储", username="jb_dongcheng")
    with world.engine.store.reader() as unit:
        row = unit.conn.execute(text("SELECT * FROM api_token WHERE id = :id"), {"id": made["id"]}).one()  # type: ignore[attr-defined]
    assert row.token_hash == hashlib.sha256(made["token"].encode()).hexdigest()
    assert all(made["token"] not in str(value) for value in row)


def test_a_token_is_only_as_good_as_its_users_account(world: WebWorld) -> None:
    token = bearer(issue(world, "脚本", username="sh_dongcheng")["token"])
    assert world.client().get("/api/processes", headers=token).status_code == 200
    user = world.context.accounts.find_user("sh_dongcheng")
    assert user is not None
    world.context.accounts.save_users([replace(user, active=False)])
    world.context.reload()
    r = world.client().get("/api/processes", headers=token)
    assert r.status_code == 401 and r.json()["code"] == "API_TOKEN_INVALID"


def test_who_may_issue_which_token(world: WebWorld) -> None:
    client = world.client()
    village = bearer(issue(world, "我的", username="xl_yangliu")["token"])
    # A user issues her own (the secret once), never another's, and lists only hers.
    own = client.post("/api/tokens", json={"name": "第二个"}, headers=village)
    assert own.status_code == 201 and own.json()["username"] == "xl_yangliu" and own.json()["token"].startswith("jzt_")
    assert client.post("/api/tokens", json={"name": "x", "username": "admin"}, headers=village).status_code == 403
    assert client.get("/api/tokens", params={"username": "admin"}, headers=village).status_code == 403
    assert {t["name"] for t in client.get("/api/tokens", headers=village).json()} == {"我的", "第二个"}
    # A system caller must say for whom; system names stay unambiguous in the audit log.
    r = client.post("/api/tokens", json={"name": "x"}, headers=MACHINE)
    assert r.status_code == 422 and r.json()["code"] == "API_TOKEN_TARGET"
    issue(world, "nightly", system=True)
    again = client.post("/api/tokens", json={"name": "nightly", "system": True}, headers=MACHINE)
    assert again.status_code == 409 and again.json()["code"] == "API_TOKEN_NAME_TAKEN"
    configured = client.post("/api/tokens", json={"name": "machine", "system": True}, headers=MACHINE)
    assert configured.status_code == 409
    bad = client.post("/api/tokens", json={"name": "a\x07b", "username": "xl_yangliu"}, headers=MACHINE)
    assert bad.status_code == 422 and bad.json()["code"] == "API_TOKEN_NAME_INVALID"
    nobody = client.post("/api/tokens", json={"name": "x", "username": "ghost"}, headers=MACHINE)
    assert nobody.status_code == 404 and nobody.json()["code"] == "USER_NOT_FOUND"
