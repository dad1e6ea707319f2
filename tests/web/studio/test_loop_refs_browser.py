"""A multi-instance loop's loopDataInputRef/loopDataOutputRef name case variables (SpiffWorkflow's
reading); bpmn-js drops such unresolvable references on export. Opening 一事一议 and 一件事联办 in
the studio and saving the diagram must keep them, so the draft still deploys."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import PROCESSES
from tests.support.browser_support import chromium, serving, sign_in
from tests.support.web_support import WebWorld
from tests.web.studio.conftest import studio_world

REF = re.compile(r"<bpmn:(loopDataInputRef|loopDataOutputRef)>([^<]+)</bpmn:\1>")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    yield from studio_world(tmp_path_factory, "yishiyiyi", "yijianshi")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("process_id, folder", [("yishiyiyi", "yishiyiyi"), ("yijianshi", "yijianshi")])
def test_saving_a_multi_instance_model_keeps_its_loop_variables(world: WebWorld, process_id: str, folder: str) -> None:
    shipped = REF.findall((PROCESSES / folder / f"{process_id}.bpmn").read_text(encoding="utf-8"))
    assert shipped, "the model has a multi-instance loop over a variable"
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "designer")
        page.goto(f"{base}/studio/{process_id}")
        page.wait_for_selector("#studio[data-ready=true]")
        page.evaluate("() => window.jiuzhuStudio.saveDiagram()")  # what every autosave does
        saved = page.evaluate(
            "(id) => fetch('/api/studio/drafts/' + id).then(r => r.json())"
            ".then(d => d.files[Object.keys(d.files).find(n => n.endsWith('.bpmn'))])",
            process_id,
        )
        lint = page.evaluate(
            "(id) => fetch('/api/studio/drafts/' + id + '/lint', {method: 'POST',"
            " headers: {'X-CSRF-Token': document.getElementById('studio').dataset.csrf}}).then(r => r.json())",
            process_id,
        )
    assert REF.findall(saved) == shipped
    assert "jiuzhu:" not in saved and "urn:jiuzhu:studio" not in saved
    # What SpiffWorkflow says of a loop without its variable ("A multiinstance task must specify …").
    assert not [p for p in lint["problems"] if "multiinstance" in p["message"].lower()], lint
    assert errors == []
