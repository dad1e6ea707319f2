"""流程设计 pages: the menu entry and the gate (designers and administrators;
everyone else 403 on every studio page and API, and never sees the entry)."""

from __future__ import annotations

from tests.jiuzhu.studio.test_studio import world
from tests.support.web_support import WebWorld

__all__ = ["world"]


def test_only_designers_and_administrators_enter_the_studio(world: WebWorld) -> None:
    designer = world.signed_in("designer")
    assert 'href="/studio"' in designer.get("/studio").text and "流程设计" in designer.get("/studio").text
    assert world.signed_in("admin").get("/studio/material_review").status_code == 200
    for username in ("jb_dongcheng", "xl_yangliu"):
        caseworker = world.signed_in(username)
        assert caseworker.get("/studio").status_code == 403
        assert caseworker.get("/studio/material_review").status_code == 403
        assert caseworker.get("/studio/material_review/versions/1.zip").status_code == 403
        assert caseworker.get("/api/studio/drafts/material_review").status_code == 403
        assert caseworker.get("/api/studio/procedures/material_review/versions").status_code == 403
        assert 'href="/studio"' not in caseworker.get("/inbox").text
    assert world.client().get("/api/studio/drafts/material_review").status_code == 401


def test_the_editor_page_loads_the_modeler_and_its_chinese_palette(world: WebWorld) -> None:
    designer = world.signed_in("designer")
    page = designer.get("/studio/material_review").text
    for asset in ("/static/vendor/studio/bpmn-modeler.js", "/static/vendor/studio/diagram-js.css",
                  "/static/vendor/studio/bpmn-js.css", "/static/vendor/studio/bpmn-embedded.css",
                  "/static/studio/editor.js", "/static/studio/translate.js"):  # fmt: skip
        assert asset in page and designer.get(asset).status_code == 200, asset
    for tab in ("流程图", "表单", "时限", "决策表", "场景", "版本"):
        assert f">{tab}</a>" in page
    assert 'id="studio-properties"' in page and 'id="studio-forms"' in page and 'id="studio-policy"' in page
    assert "'Create task': '任务'" in designer.get("/static/studio/translate.js").text
    # The decision-table editor: its scripts on the page, dmn-js and its styles loaded on first use.
    assert 'id="studio-dmn"' in page and "/static/studio/dmn_editor.js" in page
    assert "'Hit policy:': '命中策略：'" in designer.get("/static/studio/dmn_translate.js").text
    loader = designer.get("/static/studio/dmn_editor.js").text
    for asset in ("dmn-modeler.js", "dmn-js-shared.css", "dmn-js-decision-table.css",
                  "dmn-js-decision-table-controls.css", "dmn-embedded.css"):  # fmt: skip
        assert asset in loader and designer.get(f"/static/vendor/studio/{asset}").status_code == 200, asset
    assert designer.get("/studio/nosuch").status_code == 404
