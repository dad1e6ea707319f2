"""In headless Chromium, as a designer: the form editor adds a 身份证号 field,
the live preview (drawn by the server's renderer) shows it, 试填 an invalid
number shows the engine's Chinese message, and the saved file deploys; the
time-limit editor's dry run across 国庆 shows the engine's deadline.

Until the studio's editor page exists (studio-core), a harness page stands in
for it here: the two mount points and a fake ``window.jiuzhuStudio`` that
records ``saveFile`` calls."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from engine.deploy.model import SourceFile
from jiuzhu.web.auth import csrf_token
from tests.conftest import PROCESSES
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.web_support import WebWorld

FORM = "forms/tanfang/tanfang-register-schema.json"
POLICY = "processes/sla/dibao.national.sla.json"
HARNESS = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>工具测试页</title>
<link rel="stylesheet" href="/static/app.css"><link rel="stylesheet" href="/static/studio/tools.css"></head>
<body hx-headers='{"X-CSRF-Token": "%(csrf)s"}'><main>
<h2>表单</h2><div id="studio-forms"></div><h2>时限</h2><div id="studio-policy"></div></main>
<script>
window.savedFiles = [];
window.jiuzhuStudio = {processId: "tanfang", files: %(files)s, revision: 1,
  saveFile: function (name, text) {
    window.savedFiles.push([name, text]); this.files[name] = text; return Promise.resolve();
  },
  on: function () {}, emit: function () {}};
</script>
<script src="/static/studio/dom.js"></script>
<script src="/static/studio/form_editor.js"></script><script src="/static/studio/policy_editor.js"></script>
</body></html>"""


def harness(world: WebWorld, files: dict[str, str]) -> None:
    def page(request: Request) -> HTMLResponse:
        values = {"csrf": escape(csrf_token(request)), "files": json.dumps(files, ensure_ascii=False)}
        return HTMLResponse(HARNESS % values)

    world.app.add_api_route("/test-harness/studio-tools", page, include_in_schema=False)


def test_form_editor_and_dry_run_in_the_browser(world: WebWorld) -> None:
    start_form = {"type": "object", "title": "探访关爱登记", "required": ["name"],
                  "properties": {"name": {"type": "string", "title": "被探访人姓名"}}}  # fmt: skip
    policy_text = (PROCESSES / "sla" / "dibao.national.sla.json").read_text(encoding="utf-8")
    harness(world, {FORM: json.dumps(start_form, ensure_ascii=False), POLICY: policy_text, "processes/x.bpmn": "<x/>"})
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1300})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, base, "designer")
        page.goto(f"{base}/test-harness/studio-tools")
        assert page.locator("[data-testid=form-files] button").all_inner_texts() == [FORM]
        preview = page.frame_locator("[data-testid=form-preview]")
        preview.locator('input[name="f/name"]').wait_for()

        page.click("#studio-forms [data-testid=add-field]")
        row = page.locator("#studio-forms fieldset.sf-field").last
        row.locator("[data-testid=field-title]").fill("被探访人身份证号")
        row.locator("[data-testid=field-key]").fill("id_number")
        row.locator("[data-testid=field-key]").dispatch_event("change")
        row = page.locator('#studio-forms fieldset[data-key="id_number"]')
        row.locator("[data-testid=field-format]").select_option(label="身份证号")
        row.locator("[data-testid=field-required]").check()
        preview.locator('input[name="f/id_number"]').wait_for()
        assert "被探访人身份证号" in preview.locator("form").inner_text()

        preview.locator('input[name="f/name"]').fill("王芳")
        preview.locator('input[name="f/id_number"]').fill("110101199003070000")
        page.click("[data-testid=try-form]")
        tried = page.locator("[data-testid=try-errors]")
        tried.wait_for()
        assert "被探访人身份证号（id_number）：身份证号校验码不正确" in tried.inner_text()
        assert "FORM_ID_NUMBER" in tried.inner_text()
        preview.get_by_text("身份证号校验码不正确").first.wait_for()  # at the field, as the task page shows it

        page.click("[data-testid=save-form]")
        page.wait_for_function("document.querySelector('[data-testid=form-status]').textContent === '已保存'")
        saved: list[Any] = page.evaluate("window.savedFiles")
        page.locator("#studio-forms").screenshot(path=str(screenshot_path("studio-form-editor")))

        page.fill("[data-testid=dryrun-date]", "2026-09-28")
        page.locator("[data-testid=dryrun-region]").locator("option[value=CN]").wait_for(state="attached")
        page.click("[data-testid=dryrun]")
        publicity = page.locator('[data-testid=dryrun-table] tr[data-stage="publicity"]')
        publicity.wait_for()
        deadline = publicity.locator(".sp-deadline").inner_text()
        spans = publicity.inner_text()
        page.locator("#studio-policy").screenshot(path=str(screenshot_path("studio-policy-dryrun")))
        assert errors == []

    names = [name for name, _ in saved]
    assert names == [FORM]
    schema = json.loads(saved[-1][1])
    added = {"type": "string", "title": "被探访人身份证号", "format": "cn-id-number"}
    assert schema["properties"]["id_number"] == added
    assert schema["required"] == ["name", "id_number"]
    bpmn = (PROCESSES / "sla_skeleton" / "sla_skeleton.bpmn").read_text(encoding="utf-8")
    model = SourceFile("sla_skeleton.bpmn", bpmn.replace("sla-skeleton-accept-schema.json", FORM).encode())
    form = SourceFile(FORM, saved[-1][1].encode())
    assert world.engine.deploy([model], lambda _b, name: form if name == FORM else None, actor="designer").created

    limit = json.loads(policy_text)["stages"]["publicity"]
    expected = world.engine.calendar().deadline(date(2026, 9, 28), limit["limit"], limit["unit"], region="CN").date
    assert deadline == expected.isoformat()
    assert "国庆节" in spans  # the holidays in between, named
