"""The studio's properties panel, palette rules and spiffworkflow moddle
descriptor in headless Chromium, signed in as the designer.

studio-core's editor page is built in parallel, so the page here is a test
harness (not product code): it loads the vendored bpmn-js Modeler, the
descriptor and the panel's files exactly as the contract says editor.js will,
and provides the ``window.jiuzhuStudio`` object editor.js exposes. The
catalog and check-script calls go to the real app."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.responses import HTMLResponse
from lxml import etree
from playwright.sync_api import Page

from engine.clock import FixedClock
from engine.deploy.support import EVENT_DEFINITIONS
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.api import create_app
from jiuzhu.web.auth import csrf_token
from jiuzhu.wiring import build_web_context, default_connectors
from tests.conftest import PROCESSES, ROOT
from tests.support.browser_support import chromium, screenshot_path, serving
from tests.support.web_support import PASSWORD, demo_accounts, web_settings

STATIC = ROOT / "jiuzhu" / "web" / "static" / "studio"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
HARNESS = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>studio harness</title>
<link rel="stylesheet" href="/static/vendor/bpmn-js/assets/diagram-js.css">
<link rel="stylesheet" href="/static/vendor/bpmn-js/assets/bpmn-js.css">
<link rel="stylesheet" href="/static/vendor/bpmn-js/assets/bpmn-font/css/bpmn.css">
<link rel="stylesheet" href="/static/studio/properties.css">
</head><body hx-headers='{"X-CSRF-Token": "%s"}' style="margin:0">
<div style="display:flex;height:100vh"><div id="canvas" style="flex:1"></div>
<div id="studio-properties" style="width:400px"></div></div>
<script src="/static/vendor/bpmn-js/bpmn-modeler.production.min.js"></script>
<script src="/static/studio/palette-rules.js"></script>
<script>
(async function () {
  const descriptor = await (await fetch("/static/studio/spiffworkflow-moddle.json")).json();
  const modeler = new BpmnJS({container: "#canvas", moddleExtensions: {spiffworkflow: descriptor},
                              additionalModules: window.jiuzhuStudioModules || []});
  const handlers = {};
  window.emitted = [];
  window.jiuzhuStudio = {modeler, processId: "dibao", files: {},
    on(event, fn) { (handlers[event] = handlers[event] || []).push(fn); },
    emit(event, data) { window.emitted.push([event, data]); (handlers[event] || []).forEach((fn) => fn(data)); }};
  window.harnessReady = true;
})();
</script>
<script src="/static/studio/properties.js"></script>
</body></html>"""
ROUND_TRIP = """async (xml) => {
  const modeler = window.jiuzhuStudio.modeler;
  const imported = await modeler.importXML(xml);
  const saved = await modeler.saveXML({format: true});
  return {xml: saved.xml, warnings: imported.warnings.map((w) => w.message)};
}"""
SELECT = """(id) => {
  const m = window.jiuzhuStudio.modeler;
  m.get("selection").select(m.get("elementRegistry").get(id));
}"""
LINK_EVENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  id="d" targetNamespace="https://jiuzhu.example/t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:intermediateThrowEvent id="jump"><bpmn:linkEventDefinition id="l" name="a" /></bpmn:intermediateThrowEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dg"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="100" y="100" width="36" height="36" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="j_di" bpmnElement="jump"><dc:Bounds x="200" y="100" width="36" height="36" />
    </bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def spiff_content(xml: bytes) -> list[tuple[Any, ...]]:
    """Every spiffworkflow element: its owner's id, tag, attributes and text."""
    found = []
    for element in etree.fromstring(xml).iter(f"{{{SPIFF}}}*"):
        owner = element.getparent()
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        attributes = tuple(sorted(element.attrib.items()))
        found.append((owner.get("id"), etree.QName(element).localname, attributes, (element.text or "").strip()))
    return sorted(found)


def properties_of(xml: bytes, element_id: str) -> dict[str, str]:
    root = etree.fromstring(xml)
    element = root.find(f".//*[@id='{element_id}']")
    assert element is not None, element_id
    return {p.get("name"): p.get("value") for p in element.iter(f"{{{SPIFF}}}property")}


@pytest.fixture
def base(tmp_path: Path, clock: FixedClock) -> Iterator[str]:
    """The real app on a SQLite file (one database is enough for a browser walk), plus the harness page."""
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    store = SqlStore.from_url(url)
    store.create_schema()
    config = web_settings(url)
    connectors = default_connectors(config.processes_dir, config.hedui_records)
    engine = Engine(store, clock, Sandbox(helpers=HELPERS), connectors=connectors)
    policies = sorted((PROCESSES / "sla").glob("*.sla.json"))
    engine.load_policies([(p.name, p.read_bytes()) for p in policies], actor="system")  # the policies in force
    context = build_web_context(engine, config)
    units, users = demo_accounts()
    context.accounts.save_org_units(list(units))
    context.accounts.save_users(list(users))
    app = create_app(engine, config, web_context=context)

    @app.get("/test-harness/studio", include_in_schema=False)
    def harness(request: Request) -> HTMLResponse:
        return HTMLResponse(HARNESS % csrf_token(request))

    with serving(app) as served:
        yield served


def open_harness(page: Page, base: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("input[name=username]", "designer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/signin" not in url)
    page.goto(f"{base}/test-harness/studio")
    page.wait_for_function("window.harnessReady === true")


def test_the_panel_writes_what_the_engine_reads_and_checks_scripts_as_deploy(base: str) -> None:
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1500, "height": 950})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        open_harness(page, base)

        # Every shipped model survives import and export with every spiffworkflow element and attribute.
        for path in sorted(PROCESSES.rglob("*.bpmn")):
            content = path.read_bytes()
            answer = page.evaluate(ROUND_TRIP, content.decode("utf-8"))
            assert not [w for w in answer["warnings"] if "spiffworkflow" in w], (path.name, answer["warnings"])
            assert spiff_content(answer["xml"].encode("utf-8")) == spiff_content(content), path.name

        # Every BPMN MIWG reference model (tests/corpora/miwg) opens in the modeler, its shapes drawn.
        miwg = sorted((Path(__file__).resolve().parents[2] / "corpora" / "miwg").glob("*.bpmn"))
        assert len(miwg) >= 20
        for path in miwg:
            answer = page.evaluate(ROUND_TRIP, path.read_text(encoding="utf-8"))
            shapes = page.evaluate("() => window.jiuzhuStudio.modeler.get('elementRegistry').getAll().length")
            assert shapes > 1 and "definitions" in answer["xml"], path.name
        assert errors == [], errors

        # A refused element is not offered, and one that arrives anyway is flagged at once.
        assert page.locator(".djs-palette [data-action='create.data-store']").count() == 0
        assert page.locator(".djs-palette [data-action='create.exclusive-gateway']").count() == 1
        page.evaluate("(xml) => window.jiuzhuStudio.modeler.importXML(xml)", LINK_EVENT.decode())
        badge = page.locator(".jiuzhu-refused-badge")
        badge.wait_for()
        assert "链接事件" in (badge.get_attribute("data-message") or "")
        assert page.locator("g.djs-element.lint-error[data-element-id='jump']").count() == 1

        # A user task: pick a form and a stage from the catalog; the model carries them.
        page.evaluate(ROUND_TRIP, (PROCESSES / "dibao" / "dibao.bpmn").read_text(encoding="utf-8"))
        page.wait_for_selector("#studio-properties[data-catalog=ready]")
        select = SELECT
        page.evaluate(select, "db_register_relatives")
        page.wait_for_selector("#studio-properties[data-element=db_register_relatives]")
        page.select_option("#studio-properties select[name=form]", "dibao-recheck-schema.json")
        page.select_option("#studio-properties select[name=sla-stage]", "county_visit")
        stage_text = page.locator("#studio-properties select[name=sla-stage] option:checked").inner_text()
        assert "县级入户核查" in stage_text and "10 个工作日" in stage_text
        page.click("#studio-properties [data-testid=open-form]")
        assert page.evaluate("window.emitted") == [["open-form", "dibao-recheck-schema.json"]]
        page.screenshot(path=str(screenshot_path("studio-panel-user-task")))
        saved = page.evaluate("async () => (await window.jiuzhuStudio.modeler.saveXML()).xml").encode("utf-8")
        assert properties_of(saved, "db_register_relatives") == {
            "formJsonSchemaFilename": "dibao-recheck-schema.json",
            "slaStage": "county_visit",
        }

        # A script task: an escaping script gets deploy's Chinese refusal at its line, inline.
        page.evaluate(select, "db_income_ratio")
        page.wait_for_selector("#studio-properties[data-element=db_income_ratio]")
        script = page.locator("#studio-properties textarea[name=script]")
        script.click()
        page.keyboard.press("Control+End")
        page.keyboard.type("\nescape = ().__class__")
        problem = page.locator("[data-testid=problems-script] li").first
        problem.wait_for()
        text = problem.inner_text()
        assert "第 4 行" in text and "SCRIPT_FORBIDDEN" in text, text
        assert re.search(r"[\u4e00-\u9fff]", text.replace("第 4 行", ""))
        page.screenshot(path=str(screenshot_path("studio-panel-script-error")))
        saved = page.evaluate("async () => (await window.jiuzhuStudio.modeler.saveXML()).xml").encode("utf-8")
        assert b"escape = ().__class__" in saved
        assert errors == []


def test_palette_rules_follow_the_deploy_support_matrix() -> None:
    """The JS copy of the event definitions each event may carry is the engine's own."""
    source = (STATIC / "palette-rules.js").read_text(encoding="utf-8")
    found = re.search(r"ALLOWED_EVENT_DEFINITIONS = (\{.*?\});", source, re.S)
    assert found is not None
    allowed = json.loads(found.group(1))
    assert {k: set(v) for k, v in allowed.items()} == {k: set(v) for k, v in EVENT_DEFINITIONS.items()}
