"""Sign-in, sessions, CSRF, throttling and sign-out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from engine.clock import FixedClock
from engine.service.facade import Engine
from tests.support.web_support import PASSWORD, WebWorld, csrf_of, make_world


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_sign_out_ends_it(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url)
    client = world.client()
    assert client.get("/inbox").headers["location"].startswith("/signin?next=/inbox")
    page = client.get("/signin")
    r = client.post(
        "/signin", data={"username": "jb_dongcheng", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 303 and r.headers["location"] == "/inbox"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    inbox = client.get("/inbox")
    assert inbox.status_code == 200 and "王建国" in inbox.text and "东城街道" in inbox.text
    assert client.post("/signout", data={"csrf_token": csrf_of(inbox.text)}).status_code == 303
    assert client.get("/inbox").status_code == 303


def test_forged_session_and_missing_csrf_are_refused(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    world = make_world(make_engine_for, db_url)
    forged = world.client()
    forged.cookies.set("jiuzhu_session", "eyJ1c2VyIjogImFkbWluIn0=.forged.sig")
    assert forged.get("/inbox").status_code == 303
    client = world.signed_in("jb_dongcheng")
    assert client.post("/signout").status_code == 403
    assert client.post("/signout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/inbox").status_code == 200  # still signed in


def test_wrong_password_is_throttled_per_user_and_address(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url, JIUZHU_LOGIN_MAX_FAILURES="3", JIUZHU_LOGIN_WINDOW_SECONDS="60")
    client = world.client()
    token = csrf_of(client.get("/signin").text)

    def attempt(user: str, password: str) -> int:
        return client.post("/signin", data={"username": user, "password": password, "csrf_token": token}).status_code

    assert [attempt("jb_dongcheng", "nope") for _ in range(3)] == [401, 401, 401]
    assert attempt("jb_dongcheng", PASSWORD) == 429  # even the right password, until the window passes
    assert attempt("jb_xiwan", "nope") == 401  # another account is not affected
    assert attempt("nobody", "x") == 401
    clock.advance(timedelta(seconds=61))
    assert attempt("jb_dongcheng", PASSWORD) == 303


def test_throttling_is_shared_by_every_server_process_on_the_database(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    limits = {"JIUZHU_LOGIN_MAX_FAILURES": "2", "JIUZHU_LOGIN_WINDOW_SECONDS": "60"}
    first, second = make_world(make_engine_for, db_url, **limits), make_world(make_engine_for, db_url, **limits)

    def attempt(world: WebWorld, password: str) -> int:
        client = world.client()
        token = csrf_of(client.get("/signin").text)
        data = {"username": "jb_dongcheng", "password": password, "csrf_token": token}
        return client.post("/signin", data=data).status_code

    assert [attempt(first, "nope"), attempt(second, "nope")] == [401, 401]
    assert attempt(first, PASSWORD) == 429 and attempt(second, PASSWORD) == 429
    clock.advance(timedelta(seconds=61))
    assert attempt(second, PASSWORD) == 303
    assert attempt(first, "nope") == 401  # the success cleared the count; one failure is not a block


def test_next_is_only_a_local_path(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    world = make_world(make_engine_for, db_url)
    client = world.client()
    token = csrf_of(client.get("/signin").text)
    data = {"username": "jb_dongcheng", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}
    assert client.post("/signin", data=data).headers["location"] == "/inbox"


def test_vendored_htmx_and_base_layout(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    world = make_world(make_engine_for, db_url)
    client = world.signed_in("sh_dongcheng")
    assert "htmx" in client.get("/static/vendor/htmx.min.js").text[:2000]
    assert client.get("/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 200
    page = client.get("/inbox").text
    assert 'href="/inbox"' in page and "退出" in page and 'src="/static/vendor/htmx.min.js"' in page


def test_an_older_database_gets_the_new_columns(db_url: str) -> None:
    from sqlalchemy import inspect

    from integrations.sql import SqlStore
    from tests.support.schema import SINCE_BASELINE, drop_columns_since_baseline

    store = SqlStore.from_url(db_url)
    store.create_schema()
    with store.engine.begin() as conn:  # as a release before Alembic left it
        conn.exec_driver_sql("ALTER TABLE ready_task DROP COLUMN applicant_name")
        conn.exec_driver_sql("DROP TABLE alembic_version")
        for table in sorted(SINCE_BASELINE):
            conn.exec_driver_sql(f"DROP TABLE {table}")
        drop_columns_since_baseline(conn)
    store.create_schema()
    assert "applicant_name" in {c["name"] for c in inspect(store.engine).get_columns("ready_task")}
    store.close()
