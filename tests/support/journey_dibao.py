"""The front half of a 低保 case in the browser, shared by the 低保 journeys: the
village 协理员 opens it through 新建申请 and files the application, the township
accepts and investigates, the county 核对中心 takes the check, the township
reviewer gives the 初审 opinion, the 公示 runs its 7 days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from playwright.sync_api import Page

from engine.clock import SHANGHAI, FixedClock
from integrations.partner import attach
from integrations.sql import SqlStore
from jiuzhu.demo_cases import (
    ACCEPT,
    CHECK_INTAKE,
    INITIAL_REVIEW,
    START_INVESTIGATION,
    application,
    home_visit,
    load_households,
    opening,
)
from tests.support.journey_steps import Desk, do_task, fill_form, submit
from tests.support.start_world import real_world
from tests.support.web_support import WebWorld

FAMILY = "王德顺"  # 西湾镇 上庄村, alone, 肢体二级残疾; the 核对 record is eligible
HOUSEHOLD = load_households()[FAMILY]
VILLAGE = "xl_shangzhuang"  # the demo accounts (demo/users.json) of his village, township and county
HANDLER = "jb_xiwan"
REVIEWER = "sh_xiwan"
CHECK_CENTRE = "hd_center"
COUNTY = "mz_county"


def linked_world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    """The real procedures with the partner channel attached as the server attaches
    it (jiuzhu/wiring.py): an approval's 一件事 handoffs reach the /partner pages."""
    world = real_world(make_store, clock, db_url)
    attach(world.engine, None)
    return world


def today(clock: FixedClock) -> str:
    return clock.now().astimezone(SHANGHAI).date().isoformat()


def new_application(desk: Desk) -> str:
    """新建申请 → 低保 → the start form; lands on 填写低保申请. Returns the case id
    (from the case link the task page shows)."""
    page = desk.as_user(VILLAGE)
    page.click("nav a:has-text('新建申请')")
    page.click("a[data-process=dibao]")
    page.wait_for_url(f"{desk.base}/cases/new/dibao")
    fill_form(page, opening(HOUSEHOLD))
    page.click("button:has-text('提交申请')")
    page.wait_for_url(f"{desk.base}/tasks/*")
    assert page.inner_text("[data-testid=task-name]") == "填写低保申请"
    return page.url.rsplit("/", 1)[1]


def to_publicity(desk: Desk, clock: FixedClock) -> None:
    """填写申请 → 受理 → 启动调查 → 核对 intake and 入户调查 → 初审: the 公示 is running."""
    on = today(clock)
    village = desk.as_user(VILLAGE)
    form: dict[str, Any] = application(HOUSEHOLD, on)
    fill_form(village, form)
    submit(village, desk.base, "填写低保申请")
    handler = desk.as_user(HANDLER)
    do_task(handler, desk.base, "受理审查", FAMILY, ACCEPT)
    do_task(handler, desk.base, "启动家庭经济状况调查", FAMILY, START_INVESTIGATION)
    do_task(desk.as_user(CHECK_CENTRE), desk.base, "受理信息核对申请", FAMILY, CHECK_INTAKE)
    do_task(handler, desk.base, "入户调查", FAMILY, home_visit(on))
    do_task(desk.as_user(REVIEWER), desk.base, "初审", FAMILY, INITIAL_REVIEW)


def publicity_ends(world: WebWorld, clock: FixedClock) -> None:
    """Seven days (and the weekend after) pass. Time is a test input: the clock
    moves, then the due timers fire the way the server's background sweeper
    (jiuzhu/scheduler.py) fires them, through the server engine's fire_due_timers()."""
    clock.advance(timedelta(days=8))
    world.engine.fire_due_timers()


def decided_by_the_county(desk: Desk, world: WebWorld, clock: FixedClock, form: dict[str, Any]) -> tuple[Page, Page]:
    """新建申请 through a 公示 without objection to the county's 审核确认 with ``form``;
    returns the township handler's and the county's pages."""
    new_application(desk)
    to_publicity(desk, clock)
    publicity_ends(world, clock)
    handler = desk.as_user(HANDLER)
    do_task(handler, desk.base, "登记公示结果", FAMILY, {"objection": False})
    county = desk.as_user(COUNTY)
    do_task(county, desk.base, "县级审核确认", FAMILY, form)
    return handler, county
