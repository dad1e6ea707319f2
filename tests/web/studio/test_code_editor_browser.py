"""The studio's code fields in CodeMirror, in headless Chromium, as the designer on
低保 as shipped: the form editor's code view finds a field title with the Chinese
search panel, retitles it and drops a comma (the JSON syntax error is shown at its
line, in Chinese); the comma typed back, the preview shows the new title; a type
deploy refuses is marked at its key with the server's message. In the properties
panel a script task's script gets a forbidden import typed at its end: the sandbox
check's Chinese refusal is a diagnostic at that line. Screenshot:
/tmp/studio-codemirror.png (and test-artifacts/studio-codemirror.png)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page

from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.studio_world import shipped_dibao

FORM = "dibao-acceptance-schema.json"
# The editor handle (code-editor.js) hangs on its mount; these read where its marks are.
MARKED_LINES = """(selector) => {
  const mount = document.querySelector(selector), view = mount.jiuzhuCode.view;
  const marks = [...mount.querySelectorAll('.cm-lintRange-error')];
  return marks.map((el) => view.state.doc.lineAt(view.posAtDOM(el)).number);
}"""
CURSOR_LINE = """(selector) => {
  const view = document.querySelector(selector).jiuzhuCode.view;
  return view.state.doc.lineAt(view.state.selection.main.head).number;
}"""
SELECT = """(id) => {
  const m = window.jiuzhuStudio.modeler;
  m.get("selection").select(m.get("elementRegistry").get(id));
}"""
SCHEMA = "[data-testid=code-schema]"
SCRIPT = "#studio-properties [data-name=script]"


def _console_error(errors: list[str], message: ConsoleMessage) -> None:
    if message.type == "error" and "favicon" not in message.location["url"]:
        errors.append(message.text)


def _marked(page: Page, selector: str) -> list[int]:
    result: list[int] = page.evaluate(MARKED_LINES, selector)
    return result


def _tooltip(page: Page, selector: str) -> str:
    page.locator(f"{selector} .cm-lintRange-error").first.hover()
    tip = page.locator(".cm-tooltip-lint")
    tip.wait_for()
    return tip.inner_text()


def _find(page: Page, text: str) -> None:
    """Ctrl-F, the text, Enter (selects the next match), Escape (back in the text, match selected)."""
    page.keyboard.press("Control+f")
    page.locator(".cm-search input[name=search]").wait_for()
    page.keyboard.type(text)
    page.keyboard.press("End")  # a key up commits the query (typed Chinese arrives as text input only)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def test_form_code_and_script_are_edited_in_codemirror_with_located_chinese_diagnostics(tmp_path: Path) -> None:
    world, _clock = shipped_dibao(tmp_path)
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # CodeMirror reports a failing listener on the console, not as a page error (the missing
        # favicon is the page's one failed load).
        page.on("console", lambda m: _console_error(errors, m))
        sign_in(page, base, "designer")
        page.goto(f"{base}/studio/dibao")
        page.wait_for_selector("#studio[data-ready=true]")

        # The form as code: the Chinese search panel finds the field's title.
        page.click("a[data-tab=forms]")
        page.locator("[data-testid=form-files] button", has_text=FORM).click()
        preview = page.frame_locator("[data-testid=form-preview]")
        preview.get_by_text("受理意见").first.wait_for()
        page.click("#studio-forms button[data-tab=code]")
        page.locator(f"{SCHEMA} .cm-content").click()
        page.keyboard.press("Control+f")
        panel = page.locator(f"{SCHEMA} .cm-search")
        panel.wait_for()
        assert panel.locator("button[name=next]").inner_text() == "下一个"
        assert panel.locator("input[name=search]").get_attribute("placeholder") == "查找"
        page.keyboard.press("Escape")
        _find(page, "受理意见")

        # A comma dropped: the syntax error is marked on the next line, in Chinese.
        title_line = page.evaluate(CURSOR_LINE, SCHEMA)
        page.keyboard.press("End")
        page.keyboard.press("Backspace")
        page.wait_for_function(f"() => document.querySelectorAll('{SCHEMA} .cm-lintRange-error').length === 1")
        assert _marked(page, SCHEMA) == [title_line + 1]
        tip = _tooltip(page, SCHEMA)
        assert f"JSON 格式错误（第 {title_line + 1} 行" in tip and "逗号" in tip, tip
        assert f"第 {title_line + 1} 行" in page.locator("[data-testid=code-error-schema]").inner_text()

        # Retitled while broken: no preview of a text that is not JSON.
        page.locator(f"{SCHEMA} .cm-content").press("ArrowLeft")
        for _ in "意见":
            page.keyboard.press("Backspace")
        page.keyboard.type("审查意见")
        page.locator(f"{SCHEMA} .cm-lintRange-error").first.hover()
        page.locator(".cm-tooltip-lint").wait_for()
        page.locator("#studio-forms").screenshot(path="/tmp/studio-codemirror.png")
        page.locator("#studio-forms").screenshot(path=str(screenshot_path("studio-codemirror")))
        assert preview.get_by_text("受理审查意见").count() == 0

        # The comma typed back: the mark goes and the preview shows the new title.
        page.keyboard.press("End")
        page.keyboard.type(",")
        page.wait_for_function(f"() => !document.querySelector('{SCHEMA} .cm-lintRange-error')")
        assert page.locator("[data-testid=code-error-schema]").inner_text() == ""
        preview.get_by_text("受理审查意见").first.wait_for()

        # A type deploy refuses: the server's problem is marked at the field's "type" key.
        _find(page, '"string"')
        type_line = page.evaluate(CURSOR_LINE, SCHEMA)
        page.keyboard.type('"strin"')
        page.wait_for_function(f"() => document.querySelectorAll('{SCHEMA} .cm-lintRange-error').length === 1")
        assert _marked(page, SCHEMA) == [type_line]
        assert "FORM_SCHEMA_INVALID" in page.locator("[data-testid=form-problems]").inner_text()
        assert "不是有效的 JSON Schema" in _tooltip(page, SCHEMA)
        page.locator(f"{SCHEMA} .cm-content").click()
        page.keyboard.press("Control+z")
        page.wait_for_function(f"() => !document.querySelector('{SCHEMA} .cm-lintRange-error')")

        # The properties panel: a forbidden import typed at the script's end is marked at its line.
        page.click("a[data-tab=diagram]")
        page.evaluate(SELECT, "db_income_ratio")
        page.wait_for_selector("#studio-properties[data-element=db_income_ratio]")
        page.locator(f"{SCRIPT} .cm-content").click()
        page.keyboard.press("Control+End")
        page.keyboard.type("\nimport os")
        problem = page.locator("[data-testid=problems-script] li").first
        problem.wait_for()
        assert "第 4 行" in problem.inner_text() and "SCRIPT_FORBIDDEN" in problem.inner_text()
        page.wait_for_function(f"() => document.querySelector('{SCRIPT} .cm-lintRange-error')")
        assert _marked(page, SCRIPT) == [4]
        tip = _tooltip(page, SCRIPT)
        assert "不允许导入模块" in tip and re.search(r"[\u4e00-\u9fff]", tip), tip
        page.locator("#studio-properties").screenshot(path=str(screenshot_path("studio-codemirror-script")))
        saved = page.evaluate("async () => (await window.jiuzhuStudio.modeler.saveXML()).xml")
        assert "import os" in saved
        assert errors == [], json.dumps(errors, ensure_ascii=False)
