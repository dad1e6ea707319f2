"""Roles, lanes and org scope from the demo data; password hashing."""

from __future__ import annotations

from integrations.ports import User
from jiuzhu.accounts import (
    Directory,
    demo_accounts_table,
    hash_password,
    load_org_units,
    password_matches,
    role_names_from,
)
from tests.support.web_support import DEMO, demo_accounts


def directory() -> Directory:
    return Directory({u.code: u for u in load_org_units(DEMO / "org_units.json")}, role_names_from(DEMO / "users.json"))


def user(roles: tuple[str, ...], org: str) -> User:
    return User("u", "U", roles, org)


def test_scope_is_the_org_subtree_county_offices_see_the_county() -> None:
    d = directory()
    assert d.scope(user(("township_handler",), "qinghe.dongcheng")) == [
        "qinghe.dongcheng",
        "qinghe.dongcheng.hepan",
        "qinghe.dongcheng.yangliu",
    ]
    assert d.scope(user(("village_assistant",), "qinghe.xiwan.shangzhuang")) == ["qinghe.xiwan.shangzhuang"]
    county = d.scope(user(("county_officer",), "qinghe.mzj")) or []
    assert "qinghe.nanshan.shiqiao" in county and "qinghe.dongcheng" in county
    assert d.scope(user(("admin",), "qinghe")) is None
    assert d.scope(user(("partner",), "qinghe.partner.power")) == []
    assert d.department(user(("partner",), "qinghe.partner.power")) == "供电公司"
    assert not d.in_scope(user(("township_handler",), "qinghe.dongcheng"), "qinghe.xiwan.xiazhuang")


def test_lanes_map_to_roles_including_the_shared_applicant_lane() -> None:
    d = directory()
    assert d.lanes(user(("village_assistant",), "qinghe.dongcheng.yangliu")) == [
        "村(社区)协理员",
        "申请人/村(社区)协理员",
    ]
    assert d.lane_role("申请人/村(社区)协理员") == "village_assistant"
    assert d.lane_role("乡镇审核人") == "township_reviewer"
    assert d.lane_role("不存在的泳道") is None


def test_passwords_are_argon2_hashed() -> None:
    stored = hash_password("jiuzhu-demo")
    assert stored.startswith("$argon2") and "jiuzhu-demo" not in stored
    assert password_matches(stored, "jiuzhu-demo") and not password_matches(stored, "jiuzhu-dem0")
    assert not password_matches("not a hash", "x")


def test_demo_table_lists_every_role_with_its_accounts() -> None:
    _units, users = demo_accounts()
    table = demo_accounts_table([(u, "jiuzhu-demo") for u in users], directory())
    assert "乡镇(街道)经办人：jb_dongcheng（王建国·东城街道）" in table
    assert "联办部门：" in table and "lb_power" in table and "审计人员：audit" in table
