"""Every demo role's menu: each entry shown opens (200), and an entry whose
page would refuse the role (403) is not shown."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from engine.clock import FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import load_households, opening
from tests.support.page_text import raw_codes
from tests.support.start_world import real_world
from tests.support.web_support import DEMO

DEMO_USERS = json.loads((DEMO / "users.json").read_text(encoding="utf-8"))
ROLES = list(DEMO_USERS["roles"])
# One demo account per role: the first that holds it.
ONE_PER_ROLE = {role: next(u["username"] for u in DEMO_USERS["users"] if role in u["roles"]) for role in ROLES}
MENU = re.compile(r'<header class="top">.*?<nav>(.*?)</nav>', re.S)
LINK = re.compile(r'href="([^"]+)"')
# Pages the menu may lead to; a shown entry that answers 403 is the failure this test is about.
EXPECTED_MENUS = {
    "designer": ["/inbox", "/studio"],
    "partner": ["/partner"],
    "partner_supervisor": ["/partner"],
    "auditor": ["/inbox", "/cases", "/dashboard", "/audit"],
    "county_officer": ["/inbox", "/cases", "/dashboard", "/audit"],
    "admin": ["/cases/new", "/inbox", "/cases", "/dashboard", "/audit", "/outbox", "/admin/sessions", "/studio"],
    "village_assistant": ["/cases/new", "/inbox", "/cases", "/dashboard"],
}


def test_every_demo_role_opens_every_entry_of_its_menu(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    household = load_households()["刘桂芳"]
    world.engine.start(
        "dibao", opening(household), actor="xl_yangliu", org_unit="qinghe.dongcheng.yangliu", region="CN"
    )
    assert set(ONE_PER_ROLE) == set(ROLES) and "designer" in ROLES and "auditor" in ROLES
    menus = {}
    for role, username in ONE_PER_ROLE.items():
        client = world.signed_in(username)
        home = client.get("/", follow_redirects=True)
        assert home.status_code == 200, (role, home.status_code)
        found = MENU.search(home.text)
        assert found, f"{role}: no menu on the home page"
        menus[role] = LINK.findall(found.group(1))
        assert menus[role], f"{role}: an empty menu"
        for href in menus[role]:
            page = client.get(href)
            assert page.status_code == 200, (role, username, href, page.status_code)
            assert raw_codes(page.text) == [], (role, href)  # Chinese for people, codes only in attributes
            # The menu is the same on every page it leads to.
            assert LINK.findall(MENU.search(page.text).group(1)) == menus[role], (role, href)  # type: ignore[union-attr]
    for role, expected in EXPECTED_MENUS.items():
        assert menus[role] == expected, (role, menus[role])
