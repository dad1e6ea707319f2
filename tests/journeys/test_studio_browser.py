"""流程设计 in a real browser, as the designer only: a new procedure 探访关爱登记
built in the bpmn-js modeler (through its own API: the properties panel is
another part of the studio), a lint error on an unconnected end event shown in
the list and as a marker, fixed, and published as v1."""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import FixedClock
from integrations.sql import SqlStore
from tests.conftest import PROCESSES
from tests.jiuzhu.studio.test_studio import _world
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in

BUILD = """() => {
  const s = window.jiuzhuStudio, m = s.modeler;
  const modeling = m.get('modeling'), reg = m.get('elementRegistry'), ef = m.get('elementFactory');
  const moddle = m.get('moddle');
  modeling.removeElements([reg.get('flow_start_end')]);
  const pool = modeling.makeCollaboration();
  const root = m.get('canvas').getRootElement();
  const participant = reg.filter(e => e.type === 'bpmn:Participant')[0];
  modeling.updateLabel(participant, '探访关爱登记');
  const lane = modeling.addLane(participant, 'bottom');
  const lanes = reg.filter(e => e.type === 'bpmn:Lane');
  lanes.forEach(l => modeling.updateLabel(l, '村(社区)协理员'));
  const start = reg.get('start'), end = reg.get('end');
  const put = (type, x, y, name) => {
    const shape = modeling.createShape(ef.createShape({ type }), { x, y }, participant);
    modeling.updateLabel(shape, name);
    return shape;
  };
  const task = put('bpmn:UserTask', start.x + 200, start.y + 18, '登记探访');
  const gw = put('bpmn:ExclusiveGateway', start.x + 380, start.y + 18, '是否发现困难');
  const hard = put('bpmn:Task', start.x + 520, start.y - 60, '发现困难');
  const ok = put('bpmn:Task', start.x + 520, start.y + 110, '正常');
  modeling.moveShape(end, { x: 760 - end.x, y: 0 });
  const connect = (a, b) => modeling.connect(a, b, { type: 'bpmn:SequenceFlow' });
  connect(start, task); connect(task, gw);
  const yes = connect(gw, hard); connect(gw, ok);
  connect(hard, end);
  const condition = moddle.create('bpmn:FormalExpression', { body: 'found_difficulty == True' });
  modeling.updateProperties(yes, { conditionExpression: condition });
  const no = reg.filter(e => e.type === 'bpmn:SequenceFlow' && e.source === gw && e !== yes)[0];
  modeling.updateProperties(gw, { default: no.businessObject });
  s.setProperty('start', 'starterRoles', 'village_assistant');
  s.setProperty(task.id, 'formJsonSchemaFilename', 'tanfang-visit-schema.json');
  s.setProperty(task.id, 'slaStage', 'visit');
  window.__ids = { task: task.id, ok: ok.id, end: end.id };
  return window.__ids;
}"""

FORM = """{"title": "登记探访", "type": "object", "required": ["name", "id_number", "visited_on", "found_difficulty"],
 "properties": {"name": {"type": "string", "title": "被探访人姓名"},
  "id_number": {"type": "string", "title": "身份证号", "format": "cn-id-number"},
  "visited_on": {"type": "string", "title": "探访日期", "format": "date"},
  "found_difficulty": {"type": "boolean", "title": "发现困难"}}}"""

POLICY = """{"id": "tanfang.national", "version": "2026-12", "procedure": "tanfang", "title": "探访关爱登记时限",
 "source": "本地规定", "processes": ["tanfang"], "regions": ["CN"],
 "overall": {"name": "探访登记总时限", "limit": 10, "unit": "working_days", "source": "本地规定"},
 "stages": {"visit": {"name": "登记探访", "limit": 5, "unit": "working_days", "warn_before": 1,
   "escalate_to": "township_handler", "source": "本地规定：5个工作日内登记"}}}"""


def test_a_designer_builds_lints_fixes_and_publishes_a_new_procedure(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = _world(make_store, clock, db_url, PROCESSES / "sample")
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 1000})
        sign_in(page, base, "designer")
        page.click("nav a:has-text('流程设计')")
        page.wait_for_url(f"{base}/studio")
        page.fill("input[name=process_id]", "tanfang")
        page.fill("input[name=name]", "探访关爱登记")
        page.click("[data-testid=studio-create]")
        page.wait_for_url(f"{base}/studio/tanfang")
        page.wait_for_selector("#studio[data-ready=true]")
        assert page.inner_text("[data-testid=studio-name]") == "探访关爱登记"
        page.evaluate("([n, t]) => jiuzhuStudio.saveFile(n, t)", ["tanfang-visit-schema.json", FORM])
        page.evaluate("([n, t]) => jiuzhuStudio.saveFile(n, t)", ["tanfang.national.sla.json", POLICY])
        ids = page.evaluate(BUILD)
        page.evaluate("() => jiuzhuStudio.saveDiagram()")
        page.wait_for_function("() => document.querySelector('#studio-lint-summary').textContent.includes('错误')")
        row = page.locator(f"#studio-lint tr[data-element='{ids['ok']}']")
        assert row.get_attribute("data-code") == "BPMN_UNREACHABLE" or page.locator("#studio-lint tr").count() >= 1
        assert page.is_disabled("[data-testid=studio-publish]")
        marked = page.evaluate("() => document.querySelectorAll('.djs-element.lint-error').length")
        assert marked >= 1
        page.screenshot(path=screenshot_path("studio-lint-error"), full_page=True)
        page.evaluate(
            "(ids) => { const m = jiuzhuStudio.modeler, r = m.get('elementRegistry');"
            " m.get('modeling').connect(r.get(ids.ok), r.get(ids.end), {type: 'bpmn:SequenceFlow'}); }",
            ids,
        )
        page.wait_for_function("() => document.querySelector('#studio-lint-summary').textContent.includes('可以发布')")
        page.fill("#studio-note", "初版：探访关爱登记")
        page.click("[data-testid=studio-publish]")
        page.wait_for_function("() => document.querySelector('#studio-publish-result').textContent.includes('已发布')")
        assert "已发布 v1" in page.inner_text("[data-testid=studio-publish-result]")
        page.screenshot(path=screenshot_path("studio-published"), full_page=True)
    [version] = world.engine.versions("tanfang")
    assert version.name == "探访关爱登记"
