"""The inbox's 流程 and 单位 filters are choices, not typed codes: procedures
by their Chinese names from what is deployed, org units as the viewer's part
of the tree, with links written with codes still working."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from engine.clock import FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import load_households, opening
from tests.support.start_world import real_world
from tests.support.web_support import WebWorld

HOUSEHOLDS = load_households()
OPTION = re.compile(r'<option value="([^"]*)"(?: data-depth="(\d+)")?( selected)?>([^<]*)</option>')


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    return real_world(make_store, clock, db_url)


def _select(page: str, name: str) -> list[tuple[str, int, bool, str]]:
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no <select name={name}>"
    return [(v, int(d or 0), bool(s), html.unescape(label)) for v, d, s, label in OPTION.findall(found.group(1))]


def _open(world: WebWorld, family: str, org_unit: str) -> str:
    view = world.engine.start("dibao", opening(HOUSEHOLDS[family]), actor="system", org_unit=org_unit, region="CN")
    return view.record.id


def test_the_procedure_is_chosen_by_its_chinese_name(world: WebWorld) -> None:
    _open(world, "刘桂芳", "qinghe.dongcheng.yangliu")
    page = world.signed_in("jb_dongcheng").get("/inbox").text
    assert 'name="process" value=' not in page and "流程代码" not in page and "单位代码" not in page
    procedures = {value: label for value, _, _, label in _select(page, "process")}
    names = {v.process_id: v.name for v in world.engine.versions()}
    assert procedures == {"": "全部流程", **names}
    assert procedures["dibao"] == "最低生活保障审核确认" and procedures["linshi_jinan"] == "临时救助（急难型）"
    village = world.signed_in("xl_yangliu")  # the 申请 task is the village assistant's
    chosen = village.get("/inbox?process=dibao").text
    assert [v for v, _, selected, _ in _select(chosen, "process") if selected] == ["dibao"]
    assert "刘桂芳" in chosen
    assert "刘桂芳" not in village.get("/inbox?process=linshi_jinan").text


def test_the_org_unit_is_chosen_from_the_viewers_tree(world: WebWorld) -> None:
    _open(world, "刘桂芳", "qinghe.dongcheng.yangliu")
    county = _select(world.signed_in("mz_county").get("/inbox").text, "org")
    shown = [(depth, label.strip("\u3000")) for value, depth, _, label in county if value]
    assert shown[:4] == [(0, "清河县"), (1, "东城街道"), (2, "河畔社区"), (2, "杨柳社区")], shown
    assert (1, "西湾镇") in shown and (2, "上庄村") in shown
    # 村 listed right under its 乡镇, indented one level further.
    at = {label: i for i, (_, label) in enumerate(shown)}
    assert at["南山乡"] < at["松林村"] < at["西湾镇"] < at["上庄村"]
    assert all(label.startswith("\u3000" * depth) for _, depth, _, label in county)
    labels = {label for _, label in shown}
    assert not labels & {"清河县民政局", "清河县医疗保障局"}  # offices and partner departments keep no case
    township = _select(world.signed_in("jb_dongcheng").get("/inbox").text, "org")
    assert [(v, d) for v, d, _, _ in township] == [
        ("", 0),
        ("qinghe.dongcheng", 0),
        ("qinghe.dongcheng.hepan", 1),
        ("qinghe.dongcheng.yangliu", 1),
    ]
    village = _select(world.signed_in("xl_yangliu").get("/inbox").text, "org")
    assert [v for v, _, _, _ in village] == ["", "qinghe.dongcheng.yangliu"]


def test_links_written_with_codes_keep_working(world: WebWorld) -> None:
    yangliu = _open(world, "刘桂芳", "qinghe.dongcheng.yangliu")
    client = world.signed_in("admin")
    page = client.get("/inbox?org=qinghe.dongcheng.yangliu&process=dibao").text
    assert world.task_of(yangliu) in page
    assert [v for v, _, selected, _ in _select(page, "org") if selected] == ["qinghe.dongcheng.yangliu"]
    assert world.task_of(yangliu) not in client.get("/inbox?org=qinghe.dongcheng.hepan").text
    assert world.task_of(yangliu) in client.get("/inbox?org=qinghe.dongcheng").text  # a 乡镇 holds its 村
    # A code the list does not offer is still shown as the filter applied, by name.
    odd = client.get("/inbox?org=qinghe.mzj").text
    assert [(v, label) for v, _, selected, label in _select(odd, "org") if selected] == [("qinghe.mzj", "清河县民政局")]


def test_the_filter_form_and_the_pager_send_every_field_and_are_answered(world: WebWorld) -> None:
    """全部 is an empty value: the form (and htmx on each change) sends it, as do the pager's links."""
    _open(world, "刘桂芳", "qinghe.dongcheng.yangliu")
    client = world.signed_in("xl_yangliu")
    page = client.get("/inbox").text
    form = page.split('<form class="filters"', 1)[1].split("</form>", 1)[0]
    names = re.findall(r'<(?:select|input) name="(\w+)"', form)
    assert names == ["view", "state", "process", "org", "q", "sort"]
    sent = dict.fromkeys(names, "") | {"view": "all", "sort": "due", "org": "qinghe.dongcheng.yangliu"}
    for headers in ({}, {"HX-Request": "true", "HX-Target": "inbox-table"}):
        r = client.get("/inbox", params=sent, headers=headers)
        assert r.status_code == 200 and "刘桂芳" in r.text, (headers, r.status_code)
    # The pager's links carry the same fields (_inbox_table.html), 全部 as empty values.
    r = client.get("/inbox?view=all&state=&process=&org=&q=&sort=due&page=1")
    assert r.status_code == 200 and "刘桂芳" in r.text
