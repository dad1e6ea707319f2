"""bpmnlint in the studio: 低保 opens with no hint of the rules we keep; a designer who puts a
gateway on a flow (one way in, one way out) sees it marked on the diagram and listed with its
Chinese message and code, as a hint that does not block 发布."""

from __future__ import annotations

import pytest

from tests.support.browser_support import chromium, serving, sign_in
from tests.support.web_support import WebWorld

# A gateway dropped on the longest straight run of a flow: the flow now ends at the gateway,
# and a new flow leaves it for the old target.
DRAW_GATEWAY = """() => {
  const modeler = window.jiuzhuStudio.modeler;
  const modeling = modeler.get('modeling');
  let best = null;
  modeler.get('elementRegistry').filter(e => e.type === 'bpmn:SequenceFlow').forEach(flow => {
    flow.waypoints.slice(1).forEach((b, i) => {
      const a = flow.waypoints[i];
      const length = Math.abs(a.x - b.x) + Math.abs(a.y - b.y);
      if (!best || length > best.length) { best = { flow, length, x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }; }
    });
  });
  const target = best.flow.target;
  const gateway = modeling.createShape({ type: 'bpmn:ExclusiveGateway' }, { x: best.x, y: best.y }, best.flow.parent);
  modeling.reconnectEnd(best.flow, gateway, { x: gateway.x, y: gateway.y + gateway.height / 2 });
  modeling.connect(gateway, target);
  modeler.get('canvas').zoom(1, { x: best.x, y: best.y });
  modeler.get('canvas').scrollToElement(gateway);
  return gateway.id;
}"""

DRAW_LOOSE_TASK = """(near) => {
  const modeler = window.jiuzhuStudio.modeler;
  const gateway = modeler.get('elementRegistry').get(near);
  const task = modeler.get('modeling').createShape(
    { type: 'bpmn:Task' }, { x: gateway.x - 150, y: gateway.y + 25 }, gateway.parent);
  modeler.get('modeling').updateLabel(task, '孤立的环节');
  return task.id;
}"""


@pytest.mark.timeout(180)
def test_a_superfluous_gateway_is_a_chinese_hint_on_the_element_and_in_the_list(dibao_world: WebWorld) -> None:
    with serving(dibao_world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "designer")
        page.goto(f"{base}/studio/dibao")
        page.wait_for_selector("#studio[data-ready=true]")
        page.wait_for_function("/发布/.test(document.getElementById('studio-lint-summary').textContent)")
        assert page.evaluate("window.jiuzhuBpmnlint.rules.length") > 10  # the bundle is loaded
        assert page.locator("#studio-lint tr[data-code^=BPMNLINT_]").count() == 0
        assert page.locator(".djs-element.lint-warning, .djs-element.lint-error").count() == 0

        gateway = page.evaluate(DRAW_GATEWAY)
        row = page.locator(f"#studio-lint tr[data-code=BPMNLINT_SUPERFLUOUS_GATEWAY][data-element='{gateway}']")
        row.wait_for()
        assert "多余的网关：只有一个入口和一个出口，可以删去" in row.inner_text()
        assert "不阻止发布" in row.inner_text()
        assert "lint-warning" in (row.get_attribute("class") or "")
        marked = page.locator(f".djs-element[data-element-id='{gateway}']")
        assert "lint-warning" in (marked.get_attribute("class") or "")
        # the autosave's server lint (deploy's check) finds nothing: the hint does not block 发布
        page.wait_for_selector("#studio-status:has-text('已保存')")
        row.wait_for()
        hints = page.locator("#studio-lint tr[data-code^=BPMNLINT_]")
        assert {hints.nth(i).get_attribute("data-element") for i in range(hints.count())} == {gateway}
        assert page.locator("#studio-publish").is_enabled()
        assert "可以发布" in page.locator("#studio-lint-summary").inner_text()
        page.screenshot(path="/tmp/studio-bpmnlint.png")

        # a task connected to nothing: deploy refuses it (an error) and bpmnlint hints at it;
        # the error's marker is the one on the element, and 发布 is off
        task = page.evaluate(DRAW_LOOSE_TASK, gateway)
        page.locator(f"#studio-lint tr.lint-error[data-element='{task}']").wait_for()
        hint = page.locator(f"#studio-lint tr[data-code=BPMNLINT_NO_IMPLICIT_END][data-element='{task}']")
        assert "没有出口顺序流" in hint.inner_text()
        classes = page.locator(f".djs-element[data-element-id='{task}']").get_attribute("class") or ""
        assert "lint-error" in classes and "lint-warning" not in classes
        assert page.locator("#studio-publish").is_disabled()
    assert errors == []
