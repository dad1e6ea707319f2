"""演示时钟: a stored offset over the system clock, moved by an administrator in demo mode only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from engine.clock import SHANGHAI, FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.core import SYSTEM_CHAIN
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.api import create_app
from jiuzhu.demo_cases import seed_demo_cases
from jiuzhu.demo_clock import DemoClock
from jiuzhu.web.pages_demo_clock import PATH, install_demo_clock
from jiuzhu.wiring import build_engine, build_web_context, default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT
from tests.support.web_support import PASSWORD, csrf_of, demo_accounts, web_settings


def _demo(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str, *, demo: bool
) -> tuple[Engine, TestClient]:
    store = make_store()
    demo_clock = DemoClock(store.engine, clock, refresh_seconds=0)
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(store, demo_clock if demo else clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_paths(engine, [PROCESSES], FORMS, actor="system")
    config = web_settings(db_url)
    context = build_web_context(engine, config)
    units, users = demo_accounts()
    context.accounts.save_org_units(list(units))
    context.accounts.save_users(list(users))
    app = create_app(engine, config, web_context=context)
    if demo:
        install_demo_clock(app, demo_clock)
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    r = client.post("/signin", data={"username": "admin", "password": PASSWORD,
                                     "csrf_token": csrf_of(client.get("/signin").text)})  # fmt: skip
    assert r.status_code == 303, r.text
    return engine, client


def test_the_offset_is_stored_and_every_clock_on_the_database_agrees(
    make_store: Callable[[], SqlStore], clock: FixedClock
) -> None:
    one, other = DemoClock(make_store().engine, clock, refresh_seconds=0), DemoClock(make_store().engine, clock)
    assert one.now() == clock.now() and one.offset() == timedelta(0)
    one.set_offset(timedelta(days=7), actor="admin")
    assert other.now() == clock.now() + timedelta(days=7)


def test_without_demo_mode_there_is_no_page_and_the_stored_offset_is_ignored(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    DemoClock(make_store().engine, clock).set_offset(timedelta(days=30), actor="admin")
    engine, client = _demo(make_store, clock, db_url, demo=False)
    assert client.get(PATH).status_code == 404
    assert client.post(PATH, data={"how": "week"}).status_code == 404
    assert engine.clock.now() == clock.now()
    settings = web_settings(db_url)
    built = build_engine(settings, clock=clock)  # what every command but serve --demo builds
    try:
        assert built.clock.now() == clock.now()
        assert "演示时钟" not in client.get("/inbox").text
    finally:
        built.store.close()


def test_plus_seven_days_ends_the_publicity_and_is_audited(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    engine, client = _demo(make_store, clock, db_url, demo=True)
    seed_demo_cases(engine)
    [zhou] = [r for r in engine.list_instances(process_id="dibao", limit=50) if r.org_unit == "qinghe.nanshan.shiqiao"]
    assert engine.get(zhou.id).ready == []  # in 公示 since Monday 03-02, until 24:00 of Monday 03-09
    clock.advance(timedelta(days=1))  # a real day passes
    page = client.get(PATH)
    assert page.status_code == 200 and "2026-03-03 09:00" in page.text and "演示时钟" in client.get("/inbox").text
    r = client.post(PATH, data={"how": "week", "csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert engine.clock.now() == datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)
    assert [t.element_id for t in engine.get(zhou.id).ready] == ["db_publicity_result"]
    with engine.store.reader() as unit:
        moved = [e for e in unit.events(SYSTEM_CHAIN) if e.type == "demo_clock_moved"]
    assert len(moved) == 1 and moved[0].actor == "admin" and moved[0].payload["offset_seconds"] == 7 * 86400
    assert all(v.ok for v in engine.verify())
    shown = client.get(PATH).text
    assert "2026-03-10 09:00" in shown
    bad = client.post(PATH, data={"how": "date", "on": "2026-03-01", "csrf_token": csrf_of(shown)})
    assert bad.status_code == 303 and "只能向前拨" in client.get(PATH).text
    assert engine.clock.now() == datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


def test_a_non_administrator_cannot_move_the_clock(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    engine, _ = _demo(make_store, clock, db_url, demo=True)
    app = create_app(engine, web_settings(db_url), web_context=build_web_context(engine, web_settings(db_url)))
    install_demo_clock(app, engine.clock)  # type: ignore[arg-type]
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    client.post("/signin", data={"username": "jb_dongcheng", "password": PASSWORD,
                                 "csrf_token": csrf_of(client.get("/signin").text)})  # fmt: skip
    assert client.get(PATH).status_code == 403
    assert client.post(PATH, data={"how": "week", "csrf_token": csrf_of(client.get("/inbox").text)}).status_code == 403
