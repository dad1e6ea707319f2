"""Sessions and proxies, tried as an attacker would (issue 13): a cookie
copied before sign-out, an administrator's and a password change's ending of
other sessions, idle and absolute limits on the injected clock, and forged
``X-Forwarded-For`` against login throttling, under TestClient and under
uvicorn started the way ``jiuzhu serve`` starts it."""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import select

from engine.clock import FixedClock
from engine.errors import ConflictError
from engine.events import EventDraft
from engine.ports import Unit
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from integrations.sql.throttle import LoginFailureRow
from jiuzhu import cli
from jiuzhu.demo_clock import DemoClock
from jiuzhu.settings import Settings
from jiuzhu.web.throttle import UVICORN_PROXY_OPTIONS
from jiuzhu.wiring import build_engine
from tests.support.browser_support import serving
from tests.support.web_support import PASSWORD, WebWorld, csrf_of, make_world, web_over

HERE = Path(__file__).resolve().parent / "sessions"
FORGED: list[str] = json.loads((HERE / "forged_forwarded_for.json").read_text(encoding="utf-8"))["values"]
PROXY = "10.9.8.7"  # the configured reverse proxy in these tests


def client_at(world: WebWorld, host: str) -> TestClient:
    """A client whose connection comes from ``host``."""
    return TestClient(world.app, raise_server_exceptions=False, follow_redirects=False, client=(host, 40000))


def sign_in(client: TestClient, username: str, password: str = PASSWORD, **headers: str) -> int:
    token = csrf_of(client.get("/signin").text)
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post("/signin", data=data, headers=headers).status_code


def copy_of(client: TestClient, world: WebWorld) -> TestClient:
    """Another browser holding the same cookie (stolen, or copied by hand)."""
    thief = world.client()
    thief.cookies.set("jiuzhu_session", client.cookies["jiuzhu_session"])
    return thief


def signed_in(response: httpx2.Response) -> bool:
    if response.status_code == 303:
        assert response.headers["location"].startswith("/signin")
        return False
    assert response.status_code == 200, response.text
    return True


def revocations(world: WebWorld) -> list[tuple[str, str | None, dict[str, Any]]]:
    with world.engine.store.reader() as unit:
        kinds = ("web_session_revoked", "password_changed")
        return [(e.type, e.actor, e.payload) for e in unit.events("_system") if e.type in kinds]


@pytest.fixture
def world(make_engine_for: Callable[..., Engine], db_url: str) -> WebWorld:
    return make_world(make_engine_for, db_url)


# -- a copied cookie -----------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_is_refused_after_it(world: WebWorld) -> None:
    client = world.signed_in("jb_dongcheng")
    thief = copy_of(client, world)
    assert signed_in(thief.get("/inbox"))
    assert thief.get("/api/instances").status_code == 200  # the API with the cookie, too

    inbox = client.get("/inbox")
    assert client.post("/signout", data={"csrf_token": csrf_of(inbox.text)}).status_code == 303

    assert not signed_in(thief.get("/inbox"))
    api = thief.get("/api/instances")
    assert api.status_code == 401 and api.json()["code"] == "NOT_AUTHENTICATED"
    assert thief.get("/inbox", headers={"HX-Request": "true"}).status_code == 401
    [(kind, actor, payload)] = revocations(world)
    assert (kind, actor, payload["username"], payload["reason"]) == (
        "web_session_revoked",
        "jb_dongcheng",
        "jb_dongcheng",
        "signout",
    )


def test_a_cookie_that_names_a_user_is_not_a_session(world: WebWorld) -> None:
    """A cookie signed with the real key, as sessions were before (``{"user": …}``),
    or naming a session id that does not exist, signs nobody in."""
    signer = TimestampSigner("k" * 32)  # web_settings' JIUZHU_SECRET_KEY
    for content in ({"user": "admin"}, {"sid": "guessed-session-id"}):
        forged = world.client()
        forged.cookies.set("jiuzhu_session", signer.sign(b64encode(json.dumps(content).encode())).decode())
        answer = forged.get("/inbox")
        assert not signed_in(answer)
        if "sid" in content:  # a dead session's cookie is dropped
            assert "jiuzhu_session=null" in answer.headers["set-cookie"]


def test_signing_in_again_ends_the_session_the_cookie_had(world: WebWorld) -> None:
    client = world.signed_in("jb_dongcheng")
    before = copy_of(client, world)
    data = {"username": "sh_dongcheng", "password": PASSWORD, "csrf_token": csrf_of(client.get("/inbox").text)}
    assert client.post("/signin", data=data).status_code == 303
    assert not signed_in(before.get("/inbox"))
    assert signed_in(client.get("/inbox"))
    assert [s.username for s in world.context.sessions.live()] == ["sh_dongcheng"]


# -- ended by an administrator or a password change ------------------------------------------------


def test_an_administrator_ends_one_session_and_then_all_of_an_account(world: WebWorld) -> None:
    first, second = world.signed_in("jb_dongcheng"), world.signed_in("jb_dongcheng")
    admin = world.signed_in("admin")
    page = admin.get("/admin/sessions")
    assert page.status_code == 200 and page.text.count("jb_dongcheng</td>") == 2
    live = world.context.sessions.live("jb_dongcheng")
    assert len(live) == 2

    # The page's own forms: end one session, then the account's rest.
    target = live[0].id
    ended = admin.post(f"/admin/sessions/{target}/end", data={"csrf_token": csrf_of(page.text)})
    assert ended.status_code == 303 and ended.headers["location"] == "/admin/sessions"
    assert sorted([signed_in(first.get("/inbox")), signed_in(second.get("/inbox"))]) == [False, True]
    assert (
        admin.post("/admin/sessions/user/jb_dongcheng/end", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    )
    assert not signed_in(first.get("/inbox")) and not signed_in(second.get("/inbox"))
    assert signed_in(admin.get("/inbox"))
    assert [(k, a, p["username"], p["reason"], len(p["sessions"])) for k, a, p in revocations(world)] == [
        ("web_session_revoked", "admin", "jb_dongcheng", "admin", 1),
        ("web_session_revoked", "admin", "jb_dongcheng", "admin", 1),
    ]


def test_only_administrators_see_or_end_sessions(world: WebWorld) -> None:
    victim = world.signed_in("sh_dongcheng")
    other = world.signed_in("jb_dongcheng")
    token = csrf_of(other.get("/inbox").text)
    assert other.get("/admin/sessions").status_code == 403
    [session] = world.context.sessions.live("sh_dongcheng")
    assert other.post(f"/admin/sessions/{session.id}/end", data={"csrf_token": token}).status_code == 403
    assert other.post("/admin/sessions/user/sh_dongcheng/end", data={"csrf_token": token}).status_code == 403
    assert signed_in(victim.get("/inbox"))
    assert "/admin/sessions" not in other.get("/inbox").text
    assert 'href="/admin/sessions"' in world.signed_in("admin").get("/inbox").text


def test_the_command_line_lists_and_ends_an_accounts_sessions(
    world: WebWorld,
    db_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = world.signed_in("jb_dongcheng")
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(cli, "build_engine", partial(build_engine, clock=clock))  # the test's time, not the wall's
    assert cli.main(["session", "list", "--user", "jb_dongcheng"]) == 0
    assert "有效会话 1 个" in capsys.readouterr().out
    assert cli.main(["session", "end", "jb_dongcheng", "--actor", "admin"]) == 0
    assert "已结束 jb_dongcheng 的 1 个登录会话" in capsys.readouterr().out
    assert not signed_in(client.get("/inbox"))
    [(kind, actor, payload)] = revocations(world)
    assert (kind, actor, payload["reason"]) == ("web_session_revoked", "admin", "admin")


def change_password(client: TestClient, current: str, new: str, repeated: str | None = None) -> httpx2.Response:
    token = csrf_of(client.get("/account/password").text)
    data = {"current": current, "new": new, "repeated": new if repeated is None else repeated, "csrf_token": token}
    return client.post("/account/password", data=data)


def test_a_password_change_ends_every_other_session_of_the_account(world: WebWorld) -> None:
    here, elsewhere, colleague = (world.signed_in(u) for u in ("jb_dongcheng", "jb_dongcheng", "sh_dongcheng"))
    assert 'href="/account/password"' in here.get("/inbox").text

    wrong = change_password(here, "not-the-password", "a-new-password")
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    assert change_password(here, PASSWORD, "a-new-password", "typed-differently").status_code == 422
    assert change_password(here, PASSWORD, "short").status_code == 422
    assert signed_in(elsewhere.get("/inbox"))  # nothing changed yet

    done = change_password(here, PASSWORD, "a-new-password")
    assert done.status_code == 303
    assert "其他 1 个登录会话已结束" in here.get("/account/password").text
    assert signed_in(here.get("/inbox")) and not signed_in(elsewhere.get("/inbox"))
    assert signed_in(colleague.get("/inbox"))  # another account's sessions are not touched
    assert sign_in(world.client(), "jb_dongcheng", PASSWORD) == 401
    assert sign_in(world.client(), "jb_dongcheng", "a-new-password") == 303
    [(kind, actor, payload)] = revocations(world)
    assert (kind, actor, payload["username"], len(payload["sessions"])) == (
        "password_changed",
        "jb_dongcheng",
        "jb_dongcheng",
        1,
    )
    assert "a-new-password" not in json.dumps(payload)


def test_guessing_the_current_password_with_a_stolen_cookie_is_throttled(world: WebWorld) -> None:
    thief = world.signed_in("jb_dongcheng")
    answers = [change_password(thief, f"guess-{i}", "a-new-password").status_code for i in range(6)]
    assert answers == [422] * 5 + [429]
    assert change_password(thief, PASSWORD, "a-new-password").status_code == 429


# -- idle and absolute limits -----------------------------------------------------------


def test_a_session_ends_after_the_idle_limit_without_requests(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url, JIUZHU_SESSION_IDLE_MINUTES="30")
    client = world.signed_in("jb_dongcheng")
    for _ in range(4):  # working keeps it alive past the idle limit
        clock.advance(timedelta(minutes=29))
        assert signed_in(client.get("/inbox"))
    clock.advance(timedelta(minutes=30, seconds=1))
    assert not signed_in(client.get("/inbox"))
    assert world.context.sessions.live() == []


def test_a_session_ends_at_the_absolute_limit_however_busy(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url, JIUZHU_SESSION_HOURS="2", JIUZHU_SESSION_IDLE_MINUTES="30")
    client = world.signed_in("jb_dongcheng")
    for _ in range(5):
        clock.advance(timedelta(minutes=23))
        assert signed_in(client.get("/inbox"))
    clock.advance(timedelta(minutes=5))  # 2 h since sign-in, 5 minutes since the last request
    assert not signed_in(client.get("/inbox"))
    assert sign_in(client, "jb_dongcheng") == 303 and signed_in(client.get("/inbox"))


def test_last_seen_is_written_at_most_once_a_minute(world: WebWorld, clock: FixedClock) -> None:
    client = world.signed_in("jb_dongcheng")
    [start] = world.context.sessions.live()
    clock.advance(timedelta(seconds=59))
    assert signed_in(client.get("/inbox"))
    assert world.context.sessions.find(start.id) == start  # no write for a request within the minute
    clock.advance(timedelta(seconds=2))
    assert signed_in(client.get("/inbox"))
    found = world.context.sessions.find(start.id)
    assert found is not None and found.last_seen_at == start.created_at + timedelta(seconds=61)


# -- forged X-Forwarded-For -------------------------------------------------------------


def failures(world: WebWorld) -> list[tuple[str, str]]:
    table = LoginFailureRow.__table__  # type: ignore[attr-defined]
    with world.engine.store.reader() as unit:
        rows = cast(Any, unit).conn.execute(select(table.c.username, table.c.address).order_by(table.c.id)).all()
    return [(r.username, r.address) for r in rows]


def test_ten_bad_passwords_with_ten_forged_forwarded_for_values_are_throttled(world: WebWorld) -> None:
    attacker = client_at(world, "127.0.0.1")  # where uvicorn's default used to trust the header
    answers = [sign_in(attacker, "jb_dongcheng", "guess", **{"X-Forwarded-For": v}) for v in FORGED]
    assert answers == [401] * 5 + [429] * 5
    assert {address for _, address in failures(world)} == {"127.0.0.1"}  # the header named nobody
    assert sign_in(attacker, "jb_dongcheng") == 429  # not even the right password, until the window passes
    assert sign_in(client_at(world, "192.0.2.200"), "jb_dongcheng") == 429  # nor from elsewhere


def test_through_a_trusted_proxy_each_forged_address_still_counts_against_the_account(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url, JIUZHU_TRUSTED_PROXIES=f"{PROXY}, 10.0.0.0/8")
    proxy = client_at(world, PROXY)
    answers = [sign_in(proxy, "jb_dongcheng", "guess", **{"X-Forwarded-For": v}) for v in FORGED]
    assert answers == [401] * 5 + [429] * 5
    assert len({address for _, address in failures(world)}) == 5  # five different "clients", one account
    assert sign_in(client_at(world, PROXY), "sh_dongcheng", **{"X-Forwarded-For": "203.0.113.50"}) == 303
    clock.advance(timedelta(seconds=901))  # the window passes
    assert sign_in(client_at(world, PROXY), "jb_dongcheng", **{"X-Forwarded-For": "203.0.113.50"}) == 303


def test_one_address_guessing_across_accounts_is_throttled(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    world = make_world(make_engine_for, db_url, JIUZHU_LOGIN_ADDRESS_MAX_FAILURES="4")
    sprayer = client_at(world, "198.51.100.5")
    users = ["jb_dongcheng", "sh_dongcheng", "jb_xiwan", "admin", "xl_yangliu"]
    assert [sign_in(sprayer, u, "123456") for u in users] == [401] * 4 + [429]
    assert sign_in(client_at(world, "198.51.100.6"), "xl_yangliu") == 303  # the account itself is fine


def test_a_trusted_proxy_gives_the_forwarded_address_and_nobody_else_does(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url, JIUZHU_TRUSTED_PROXIES=PROXY)
    assert sign_in(client_at(world, PROXY), "jb_dongcheng", **{"X-Forwarded-For": "203.0.113.7"}) == 303
    assert sign_in(client_at(world, "198.51.100.9"), "sh_dongcheng", **{"X-Forwarded-For": "203.0.113.8"}) == 303
    assert sign_in(client_at(world, "127.0.0.1"), "jb_xiwan", **{"X-Forwarded-For": "203.0.113.9"}) == 303
    addresses = {s.username: s.address for s in world.context.sessions.live()}
    assert addresses == {"jb_dongcheng": "203.0.113.7", "sh_dongcheng": "198.51.100.9", "jb_xiwan": "127.0.0.1"}
    admin = world.signed_in("admin")
    assert "203.0.113.7" in admin.get("/admin/sessions").text


def test_trusted_proxies_are_read_from_the_environment() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    configured = Settings.from_env({"JIUZHU_TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16 ,"})
    assert configured.trusted_proxies == ("10.0.0.1", "192.168.0.0/16")


def test_under_uvicorn_as_jiuzhu_serve_runs_it_a_local_peer_cannot_forge_its_address(world: WebWorld) -> None:
    with (
        serving(world.app, **UVICORN_PROXY_OPTIONS) as base,
        httpx.Client(base_url=base, follow_redirects=False) as http,
    ):
        answers = []
        for value in FORGED:
            token = csrf_of(http.get("/signin").text)
            data = {"username": "jb_dongcheng", "password": "guess", "csrf_token": token}
            answers.append(http.post("/signin", data=data, headers={"X-Forwarded-For": value}).status_code)
    assert answers == [401] * 5 + [429] * 5
    assert {address for _, address in failures(world)} == {"127.0.0.1"}


def test_moving_a_demos_clock_a_week_ahead_signs_nobody_out(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    """Sessions run on the wall clock under the 演示时钟; the wall clock's own passing still ends them."""
    store = make_store()
    demo_clock = DemoClock(store.engine, clock, refresh_seconds=0)
    engine = Engine(store, demo_clock, Sandbox(helpers=HELPERS))
    world = web_over(engine, db_url, JIUZHU_SESSION_IDLE_MINUTES="60")
    client = world.signed_in("admin")
    demo_clock.set_offset(timedelta(days=7), actor="admin")
    assert engine.clock.now() - clock.now() == timedelta(days=7)
    assert signed_in(client.get("/inbox"))
    clock.advance(timedelta(minutes=61))
    assert not signed_in(client.get("/inbox"))


def test_a_sign_out_that_meets_a_concurrent_audit_write_is_tried_again(
    world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-outs at one moment conflict on the system audit chain (PostgreSQL); neither may fail."""
    client = world.signed_in("jb_dongcheng")
    thief = copy_of(client, world)
    real = world.engine.audit_system
    conflicts = [ConflictError("系统审计链并发写入冲突，请重试", code="REVISION_MISMATCH")]

    def audit_once_late(draft: EventDraft, write: Callable[[Unit], None] | None = None) -> None:
        if conflicts:
            raise conflicts.pop()
        real(draft, write)

    monkeypatch.setattr(world.engine, "audit_system", audit_once_late)
    assert client.post("/signout", data={"csrf_token": csrf_of(client.get("/inbox").text)}).status_code == 303
    assert conflicts == [] and not signed_in(thief.get("/inbox"))
    assert [kind for kind, _, _ in revocations(world)] == ["web_session_revoked"]
