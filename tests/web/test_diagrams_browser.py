"""In a real browser, signed in as the admin: the case page of an instance of
each real procedure draws the version's own diagram (BPMN DI, lanes as bands)
with every flow node visible at a readable size, no two tasks overlapping.
Screenshots go to test-artifacts/diagrams/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.api import create_app
from jiuzhu.demo_cases import seed_demo_cases
from jiuzhu.wiring import build_web_context, default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT
from tests.journeys.test_inbox_browser import sign_in
from tests.support.browser_support import ARTIFACTS, chromium, serving
from tests.support.web_support import demo_accounts, web_settings

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TASKS = {"userTask", "scriptTask", "serviceTask", "businessRuleTask", "callActivity", "task", "manualTask"}
FLOW_NODE_SUFFIXES = ("Task", "Event", "Gateway")
# The procedures a caseworker opens, and the org unit a fresh case is started in.
PROCEDURES = {
    "dibao": None,  # demo cases
    "linshi_jinan": None,
    "yijianshi": None,
    "linshi_zhichu": "qinghe.dongcheng",
    "yishiyiyi": "qinghe.mzj",
}
MEASURE = """(ids) => {
  const box = document.getElementById("diagram");
  const registry = box.viewer.get("elementRegistry");
  const frame = box.getBoundingClientRect();
  const rect = (id) => {
    const gfx = registry.getGraphics(id);
    if (!gfx) return null;
    const r = gfx.querySelector(".djs-visual").getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  };
  return {
    frame: { x: frame.x, y: frame.y, width: frame.width, height: frame.height },
    shapes: Object.fromEntries(ids.map((id) => [id, rect(id)])),
    lanes: registry.filter((e) => e.type === "bpmn:Lane").map((e) => e.id),
  };
}"""
REACH = """(id) => {
  const box = document.getElementById("diagram");
  const viewer = box.viewer;
  viewer.get("canvas").scrollToElement(viewer.get("elementRegistry").get(id));
  const r = viewer.get("elementRegistry").getGraphics(id).getBoundingClientRect();
  const f = box.getBoundingClientRect();
  return r.x >= f.x - 1 && r.y >= f.y - 1 && r.x + r.width <= f.x + f.width + 1 && r.y + r.height <= f.y + f.height + 1;
}"""


def flow_nodes(content: bytes) -> tuple[dict[str, str], list[str]]:
    root = etree.fromstring(content)
    process = root.find(f"{{{BPMN}}}process")
    assert process is not None
    nodes = {
        el.get("id"): etree.QName(el).localname
        for el in process
        if isinstance(el.tag, str)
        and (etree.QName(el).localname.endswith(FLOW_NODE_SUFFIXES) or etree.QName(el).localname in TASKS)
    }
    lanes = [lane.get("id") for lane in process.iterfind(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane")]
    return nodes, lanes


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.fixture
def engine(make_store: Callable[[], SqlStore], clock: FixedClock) -> Engine:
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(make_store(), clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_paths(engine, [PROCESSES], FORMS, actor="system")
    return engine


def test_each_procedure_case_page_draws_its_own_laned_diagram_readably(engine: Engine, db_url: str) -> None:
    seed_demo_cases(engine)
    cases: dict[str, str] = {}
    for pid, org_unit in PROCEDURES.items():
        if org_unit is not None:
            cases[pid] = engine.start(pid, {}, actor="system", org_unit=org_unit, region="CN").record.id
        else:
            running = engine.list_instances(process_id=pid, status="running")
            assert running, pid
            cases[pid] = running[-1].id
    config = web_settings(db_url)
    context = build_web_context(engine, config)
    units, users = demo_accounts()
    context.accounts.save_org_units(list(units))
    context.accounts.save_users(list(users))
    app = create_app(engine, config, web_context=context)
    out = ARTIFACTS / "diagrams"
    out.mkdir(parents=True, exist_ok=True)
    with serving(app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "admin")
        for pid, case in cases.items():
            record = engine.instance_record(case)
            nodes, lanes = flow_nodes(engine.version_source(record.process_id, record.version).content)
            page.goto(f"{base}/cases/{case}")
            page.wait_for_selector("#diagram[data-ready=true]", timeout=30000)
            page.locator("#diagram").scroll_into_view_if_needed()
            page.locator("#diagram").screenshot(path=str(Path(out / f"{pid}.png")))
            seen = page.evaluate(MEASURE, list(nodes))
            frame = seen["frame"]
            assert frame["height"] >= 320, (pid, frame)  # not a strip
            missing = [i for i, r in seen["shapes"].items() if r is None]
            assert missing == [], (pid, missing)
            tasks = {i: seen["shapes"][i] for i, tag in nodes.items() if tag in TASKS}
            small = {i: r for i, r in tasks.items() if r["width"] < 60 or r["height"] < 40}
            assert small == {}, (pid, small)
            names = sorted(tasks)
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    assert not overlap(tasks[a], tasks[b]), (pid, a, b)
            assert sorted(seen["lanes"]) == sorted(lanes), pid
            current = page.locator("#diagram g.djs-element.jz-current")
            for k in range(min(current.count(), 3)):  # the current step is in view at first sight
                box = current.nth(k).bounding_box()
                assert box is not None
                inside = frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
                assert inside, (pid, box, frame)
            unreachable = [i for i in nodes if not page.evaluate(REACH, i)]
            assert unreachable == [], (pid, unreachable)
            page.click("[data-testid=diagram-fit]")
            page.locator("#diagram").screenshot(path=str(out / f"{pid}-whole.png"))
        assert errors == []


def test_a_finished_case_opens_on_the_end_of_its_path(engine: Engine, db_url: str) -> None:
    from jiuzhu.demo_cases import (
        ACCEPT,
        CHECK_INTAKE,
        START_INVESTIGATION,
        _Case,
        application,
        home_visit,
        load_households,
        load_org_units,
        opening,
    )

    # 陈小燕's check finds a car; she does not dispute it: the case ends at 核对不符合，终止,
    # half-way along a diagram wider than any window at a readable scale.
    home = load_households()["陈小燕"]
    unit = load_org_units()[home["org_unit"]]
    view = engine.start("dibao", opening(home), actor="system", org_unit=unit["code"], region=unit["region"])
    case = _Case(engine, view.record.id).do("db_apply", application(home, "2026-03-02"), "申请人")
    case.do("db_accept", ACCEPT, "经办人").do("db_start_investigation", START_INVESTIGATION, "经办人")
    case.do("db_check_intake", CHECK_INTAKE, "核对中心").do("db_home_visit", home_visit("2026-03-02"), "经办人")
    case.do("db_check_notice", {"notified_on": "2026-03-02", "disputed": False}, "经办人")
    assert engine.instance_record(case.id).status == "completed"
    config = web_settings(db_url)
    context = build_web_context(engine, config)
    units, users = demo_accounts()
    context.accounts.save_org_units(list(units))
    context.accounts.save_users(list(users))
    with serving(create_app(engine, config, web_context=context)) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        sign_in(page, base, "admin")
        page.goto(f"{base}/cases/{case.id}")
        page.wait_for_selector("#diagram[data-ready=true]", timeout=30000)
        page.locator("#diagram").scroll_into_view_if_needed()
        page.locator("#diagram").screenshot(path=str(ARTIFACTS / "diagrams" / "dibao-finished.png"))
        last = page.evaluate("() => JSON.parse(document.getElementById('diagram').dataset.facts).last")
        assert last == "db_end_ineligible", last
        seen = page.evaluate(MEASURE, [last])
        frame, end = seen["frame"], seen["shapes"][last]
        assert end is not None
        inside = frame["x"] <= end["x"] and end["x"] + end["width"] <= frame["x"] + frame["width"]
        assert inside, (end, frame)  # no pan needed to see where the case ended
        assert page.get_by_test_id("diagram-home").inner_text() == "回到最后环节"
