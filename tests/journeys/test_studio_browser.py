"""流程设计 in a real browser. The designer (only) creates 探访关爱登记 from
scratch on /studio, builds it in the bpmn-js modeler through the modeler's own
API (the properties panel is another part of the studio): start → 登记探访 (a
new 4-field form with a 身份证号, lane 村(社区)协理员, a 5-working-day stage in
a new policy) → exclusive gateway → 发现困难 / 正常 → end; sees the located
lint error of an unconnected end event in the list and as a marker, fixes it
and publishes v1. A village assistant runs a case of it to the end on the
web; the designer adds a task and publishes v2; the case still shows v1 (its
diagram has no such task) and the diff of v1 → v2 paints the added task green. The
低保 procedure opens in the studio with its lanes, forms and stages, and one
of its form fields retitled in the form editor and published is what the
next new 低保 case uses (its start page shows it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.clock import FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import load_households, opening
from jiuzhu.studio.scenarios import ScenarioCheck
from tests.conftest import PROCESSES
from tests.jiuzhu.studio.test_studio import _world
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.diff_view import ADDED_COLOURS, drawn
from tests.support.studio_versions import NORMAL

START_FORM = {
    "title": "探访登记",
    "type": "object",
    "required": ["name", "id_number"],
    "properties": {
        "name": {"type": "string", "title": "被探访人姓名", "minLength": 2},
        "id_number": {"type": "string", "title": "身份证号", "format": "cn-id-number"},
    },
}
VISIT_FORM = {
    "title": "登记探访",
    "type": "object",
    "required": ["name", "id_number", "visited_on", "found_difficulty"],
    "properties": {
        "name": {"type": "string", "title": "被探访人姓名", "minLength": 2},
        "id_number": {"type": "string", "title": "身份证号", "format": "cn-id-number"},
        "visited_on": {"type": "string", "title": "探访日期", "format": "date"},
        "found_difficulty": {"type": "string", "title": "是否发现困难", "enum": ["是", "否"]},
    },
}
POLICY = {"id": "tanfang.national", "version": "2026-12", "procedure": "tanfang", "title": "探访关爱登记时限",
          "source": "本地规定（示例）", "processes": ["tanfang"], "regions": ["CN"],
          "overall": {"name": "探访登记总时限", "limit": 10, "unit": "working_days", "source": "本地规定"},
          "stages": {"visit": {"name": "登记探访", "limit": 5, "unit": "working_days", "warn_before": 1,
                               "escalate_to": "乡镇审核人", "source": "本地规定：5个工作日内登记"}}}  # fmt: skip
ID_NUMBER = "11010519491231002X"
SCENARIO_RUN = 240_000  # ms: one pytest subprocess, seconds on an idle machine, more on a loaded one

BUILD = """async () => {
  const s = window.jiuzhuStudio, m = s.modeler;
  const modeling = m.get('modeling'), reg = m.get('elementRegistry'), ef = m.get('elementFactory');
  const canvas = m.get('canvas'), moddle = m.get('moddle');
  modeling.removeElements([reg.get('flow_start_end')]);
  const pool = modeling.createShape(ef.createParticipantShape(), { x: 500, y: 200 }, canvas.getRootElement());
  modeling.resizeShape(pool, { x: 100, y: 40, width: 1080, height: 360 });
  modeling.updateLabel(pool, '探访关爱登记');
  modeling.splitLane(pool, 1);
  modeling.updateLabel(reg.filter(e => e.type === 'bpmn:Lane')[0], '村(社区)协理员');
  const start = reg.get('start'), end = reg.get('end');
  const move = (shape, x, y) =>
    modeling.moveElements([shape, shape.label].filter(Boolean), { x: x - shape.x, y: y - shape.y });
  move(start, 200, 190);
  move(end, 1000, 100);
  const put = (type, x, y, name) => {
    const shape = modeling.createShape(ef.createShape({ type }), { x, y }, pool);
    modeling.updateLabel(shape, name);
    return shape;
  };
  const task = put('bpmn:UserTask', 340, 208, '登记探访');
  const gw = put('bpmn:ExclusiveGateway', 500, 208, '是否发现困难');
  const hard = put('bpmn:Task', 680, 118, '发现困难');
  const ok = put('bpmn:Task', 680, 318, '正常');
  const done = put('bpmn:EndEvent', 1018, 318, '正常办结');
  const connect = (a, b, name) => {
    const flow = modeling.connect(a, b, { type: 'bpmn:SequenceFlow' });
    if (name) { modeling.updateLabel(flow, name); }
    return flow;
  };
  connect(start, task); connect(task, gw);
  const yes = connect(gw, hard, '发现困难');
  const no = connect(gw, ok, '正常');
  const hardEnd = connect(hard, end);
  const condition = moddle.create('bpmn:FormalExpression', { body: 'found_difficulty == "是"' });
  modeling.updateProperties(yes, { conditionExpression: condition });
  modeling.updateProperties(gw, { default: no.businessObject });
  s.setProperty('start', 'formJsonSchemaFilename', 'tanfang-start-schema.json');
  s.setProperty('start', 'starterRoles', 'village_assistant');
  s.setProperty(task.id, 'formJsonSchemaFilename', 'tanfang-visit-schema.json');
  s.setProperty(task.id, 'slaStage', 'visit');
  s.home();
  await s.saveDiagram();
  return { task: task.id, ok: ok.id, done: done.id, hard: hard.id, end: end.id, hardEnd: hardEnd.id };
}"""

ADD_TASK = """async (ids) => {
  const s = window.jiuzhuStudio, m = s.modeler;
  const modeling = m.get('modeling'), reg = m.get('elementRegistry'), ef = m.get('elementFactory');
  const pool = m.get('elementRegistry').filter(e => e.type === 'bpmn:Participant')[0];
  modeling.removeElements([reg.get(ids.hardEnd)]);
  const file = modeling.createShape(ef.createShape({ type: 'bpmn:Task' }), { x: 860, y: 118 }, pool);
  modeling.updateLabel(file, '建立关爱台账');
  modeling.connect(reg.get(ids.hard), file, { type: 'bpmn:SequenceFlow' });
  modeling.connect(file, reg.get(ids.end), { type: 'bpmn:SequenceFlow' });
  s.home();
  await s.saveDiagram();
  return file.id;
}"""


def _lint_says(text: str) -> str:
    return f"() => document.querySelector('#studio-lint-summary').textContent.includes({json.dumps(text)})"


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[tuple[Callable[[], SqlStore], str]]:
    """One Chromium run, on SQLite: the studio's storage is proven on both databases in tests/jiuzhu/studio."""
    url = f"sqlite:///{tmp_path / 'jiuzhu.db'}"
    stores: list[SqlStore] = []

    def factory() -> SqlStore:
        store = SqlStore.from_url(url)
        store.create_schema()
        stores.append(store)
        return store

    yield factory, url
    for store in stores:
        store.close()


@pytest.mark.timeout(600)
def test_a_designer_publishes_a_new_procedure_a_caseworker_runs_it_and_v2_leaves_the_case_on_v1(
    sqlite_store: tuple[Callable[[], SqlStore], str], clock: FixedClock
) -> None:
    make_store, url = sqlite_store
    world = _world(make_store, clock, url, PROCESSES / "dibao", PROCESSES / "yijianshi")
    # 低保's publish is checked against one of its scenarios, not all 21 (tests/studio/test_scenarios.py).
    world.app.state.studio_publish_checks[:] = [ScenarioCheck(timeout=SCENARIO_RUN / 1000, names=(NORMAL,))]
    households = load_households()
    first, second = list(households)[:2]
    running = world.engine.start("dibao", opening(households[first]), actor="x", org_unit="qinghe.xiwan", region="CN")
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        sign_in(page, base, "designer")
        page.click("nav a:has-text('流程设计')")
        page.wait_for_url(f"{base}/studio")
        page.fill("input[name=process_id]", "tanfang")
        page.fill("input[name=name]", "探访关爱登记")
        page.click("[data-testid=studio-create]")
        page.wait_for_url(f"{base}/studio/tanfang")
        page.wait_for_selector("#studio[data-ready=true]")
        assert page.inner_text("[data-testid=studio-name]") == "探访关爱登记"
        for name, body in (("tanfang-start-schema.json", START_FORM), ("tanfang-visit-schema.json", VISIT_FORM),
                           ("tanfang.national.sla.json", POLICY)):  # fmt: skip
            page.evaluate("([n, t]) => jiuzhuStudio.saveFile(n, t)", [name, json.dumps(body, ensure_ascii=False)])
        ids = page.evaluate(BUILD)
        # 正常办结 is connected to nothing: located in the list and marked on the diagram; publishing is off.
        page.wait_for_function(_lint_says("错误"))
        row = page.locator(f"#studio-lint tr[data-element='{ids['done']}']")
        assert row.get_attribute("data-code") == "BPMN_UNREACHABLE" and "永远不会执行" in row.inner_text()
        assert page.locator("#studio-lint tr.lint-error").count() == 1
        assert page.locator(f".djs-element.lint-error[data-element-id='{ids['done']}']").count() == 1
        assert page.is_disabled("[data-testid=studio-publish]")
        row.click()  # selects the element on the diagram
        assert page.locator(f".djs-element.selected[data-element-id='{ids['done']}']").count() == 1
        page.screenshot(path=screenshot_path("studio-lint-error"), full_page=True)
        page.evaluate(
            "async (ids) => { const m = jiuzhuStudio.modeler, r = m.get('elementRegistry');"
            " m.get('modeling').connect(r.get(ids.ok), r.get(ids.done), {type: 'bpmn:SequenceFlow'});"
            " await jiuzhuStudio.saveDiagram(); }",
            ids,
        )
        page.wait_for_function(_lint_says("可以发布"))
        assert page.locator(".djs-element.lint-error").count() == 0
        page.fill("#studio-note", "初版：探访关爱登记")
        page.click("[data-testid=studio-publish]")
        page.wait_for_function("() => document.querySelector('#studio-publish-result').textContent.includes('已发布')")
        assert "已发布 v1" in page.inner_text("[data-testid=studio-publish-result]")
        page.screenshot(path=screenshot_path("studio-published"), full_page=True)

        # A village assistant of 杨柳村 runs a case of it to the end.
        worker = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        sign_in(worker, base, "xl_yangliu")
        worker.goto(f"{base}/cases/new")
        worker.click("a[data-process=tanfang]")
        worker.wait_for_url(f"{base}/cases/new/tanfang")
        worker.fill("#jz-f-name", "王秀英")
        worker.fill("#jz-f-id_number", ID_NUMBER)
        worker.click("button:has-text('提交申请')")
        worker.wait_for_url(f"{base}/tasks/*")
        [case] = world.engine.list_instances(process_id="tanfang")
        assert worker.inner_text("[data-testid=task-name]") == "登记探访"
        worker.fill("#jz-f-name", "王秀英")
        worker.fill("#jz-f-id_number", ID_NUMBER)
        worker.fill("#jz-f-visited_on", "2026-11-02")
        worker.select_option("#jz-f-found_difficulty", "否")
        with worker.expect_navigation():
            worker.click("button[type=submit]:text-is('提交')")
        # 正常 is a plain task in the same lane: it waits in the inbox for the assistant too.
        [normal] = world.engine.get(case.id).ready
        assert normal.name == "正常" and f"/tasks/{normal.id}" in worker.content()
        worker.click(f"a[href='/tasks/{normal.id}']")
        worker.wait_for_url(f"{base}/tasks/{normal.id}")
        with worker.expect_navigation():
            worker.click("button[type=submit]:text-is('提交')")
        record = world.engine.get(case.id).record
        assert (record.status, record.version, record.org_unit) == ("completed", 1, "qinghe.dongcheng.yangliu")
        worker.goto(f"{base}/cases/{case.id}")
        assert "版本 v1" in worker.inner_text("main")

        # The designer adds a task and publishes v2; the case stays on v1.
        added = page.evaluate(ADD_TASK, ids)
        page.wait_for_function(_lint_says("可以发布"))
        page.fill("#studio-note", "发现困难后建立关爱台账")
        page.click("[data-testid=studio-publish]")
        page.wait_for_function("() => document.querySelector('#studio-publish-result').textContent.includes('v2')")
        assert [v.version for v in world.engine.versions("tanfang")] == [1, 2]
        page.click("a[data-tab=versions]")
        page.wait_for_selector("#studio-versions tr[data-version='2']")
        assert "发现困难后建立关爱台账" in page.inner_text("#studio-versions")
        worker.reload()
        assert "版本 v1" in worker.inner_text("main")
        worker.wait_for_selector("#diagram[data-ready=true]")
        assert worker.locator(f"#diagram [data-element-id='{ids['hard']}']").count() == 1
        assert worker.locator(f"#diagram [data-element-id='{added}']").count() == 0, "the case draws v1, not v2"
        assert world.engine.get(case.id).record.version == 1

        # The diff of v1 → v2, from the 版本 tab: the added task is green on the v2 side only.
        page.click("#studio-versions tr[data-version='2'] a:has-text('与上一版比较')")
        page.wait_for_url(f"{base}/studio/tanfang/diff?from=1&to=2")
        page.wait_for_selector("#diagram-to[data-ready=true]")
        shape = drawn(page, "diagram-to", added)
        assert shape is not None and "diff-added" in str(shape["classes"]), shape
        assert (shape["fill"], shape["stroke"]) == ADDED_COLOURS and shape["inView"], shape
        assert drawn(page, "diagram-from", added) is None
        change = page.locator(f"[data-testid=element-changes] li[data-element='{added}']")
        assert change.get_attribute("data-kind") == "added" and "建立关爱台账" in change.inner_text()

        # 低保 opens in the studio with its lanes, its forms and its time-limit stages.
        page.goto(f"{base}/studio/dibao")
        page.wait_for_selector("#studio[data-ready=true]")
        lanes = page.evaluate(
            "() => jiuzhuStudio.modeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')"
            ".map(e => e.businessObject.name)"
        )
        assert {"申请人/村(社区)协理员", "乡镇(街道)经办人", "县级民政局"} <= set(lanes)
        page.wait_for_function(_lint_says("可以发布"))
        page.screenshot(path=screenshot_path("studio-dibao"), full_page=True)
        page.click("a[data-tab=policy]")
        stage = page.locator("[data-testid=policy-table] tr[data-stage=publicity]")
        assert stage.locator("[data-field='stages.publicity.name'] input").input_value() == "公示"
        assert stage.locator("[data-field='stages.publicity.limit'] input").input_value() == "7"

        # One field of a 低保 form retitled in the form editor and published: the next new case uses it,
        # the running one keeps v1.
        page.click("a[data-tab=forms]")
        forms = page.locator("[data-testid=form-files] button").all_inner_texts()
        assert {"dibao-start-schema.json", "dibao-apply-schema.json"} <= set(forms), forms
        page.click("[data-testid=form-files] button:text-is('dibao-start-schema.json')")
        field = page.locator('#studio-forms fieldset[data-key="apply_channel"] [data-testid=field-title]')
        assert field.input_value() == "申请渠道"
        field.fill("申请方式")
        page.click("[data-testid=save-form]")
        page.wait_for_function("document.querySelector('[data-testid=form-status]').textContent === '已保存'")
        page.click("a[data-tab=diagram]")
        page.wait_for_function(_lint_says("可以发布"))
        page.fill("#studio-note", "申请渠道改称申请方式")
        page.click("[data-testid=studio-publish]")
        # The publish runs 低保's scenarios against the draft (a pytest subprocess).
        published = "() => document.querySelector('#studio-publish-result').textContent.includes('已发布')"
        page.wait_for_function(published, timeout=SCENARIO_RUN)
        assert "已发布 v2" in page.inner_text("[data-testid=studio-publish-result]")
        worker.goto(f"{base}/cases/new/dibao")
        assert worker.inner_text("label[for=jz-f-apply_channel]").strip().startswith("申请方式")
    new = world.engine.start("dibao", opening(households[second]), actor="x", org_unit="qinghe.xiwan", region="CN")
    versions = {v.version: v for v in world.engine.versions("dibao")}
    assert new.record.version == max(versions) == 2
    assert world.engine.get(running.record.id).record.version == 1
    assert versions[2].definition["start_form"]["schema"]["properties"]["apply_channel"]["title"] == "申请方式"
    assert versions[1].definition["start_form"]["schema"]["properties"]["apply_channel"]["title"] == "申请渠道"
