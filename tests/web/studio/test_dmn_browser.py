"""In headless Chromium, as a designer: 低保's dibao_tiers.dmn opens in the
studio's decision-table editor (dmn-js, Chinese chrome); a changed cell is
autosaved into the draft (a reload shows it); a cell the engine cannot
evaluate shows deploy's error located by decision, rule row and column, marks
the cell and blocks publishing; fixing it clears both; 新建决策表 adds a
table that passes the same lint."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.web_support import WebWorld

WHERE = "决策「低保保障金分档」，第 2 条规则，输入列「家庭月人均收入 ÷ 月低保标准」"


def _open_tiers(page: Page, base: str) -> None:
    page.goto(f"{base}/studio/dibao#dmn")
    page.wait_for_selector("#studio[data-ready=true]")
    page.click("[data-testid=dmn-files] button[data-file='dibao_tiers.dmn']")
    page.wait_for_selector("#studio-dmn[data-ready='dibao_tiers.dmn'] [data-element-id=tier_rule_2_in]")


def _edit(page: Page, element_id: str, text: str) -> None:
    """Type into a cell as a designer does: click it, select its text, type over it."""
    cell = page.locator(f"#studio-dmn [data-element-id={element_id}] [contenteditable]").first
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def _draft_file(page: Page, name: str) -> Any:
    return page.evaluate(
        "(n) => fetch('/api/studio/drafts/dibao', {credentials: 'same-origin'})"
        ".then(r => r.json()).then(d => d.files[n])",
        name,
    )


def test_a_designer_edits_a_decision_table_and_sees_the_located_lint(dibao_world: WebWorld) -> None:
    with serving(dibao_world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, base, "designer")
        _open_tiers(page, base)
        assert page.locator("[data-testid=dmn-files] button").all_inner_texts() == [
            "dibao_region.dmn",
            "dibao_tiers.dmn",
        ]
        table = page.inner_text("[data-testid=dmn-canvas]")
        assert "命中策略" in table and "唯一（UNIQUE）" in table and "低保保障金分档" in table
        assert "家庭月人均收入 ÷ 月低保标准" in table and "每人发放标准的比例" in table
        assert "校验通过" in page.inner_text("[data-testid=dmn-lint-summary]")

        # One cell changed: autosaved into the draft, still there after a reload.
        _edit(page, "tier_rule_2_share", "0.75")
        page.wait_for_function(
            "() => /已保存（修订/.test(document.querySelector('[data-testid=dmn-status]').textContent)"
        )
        saved = _draft_file(page, "dibao_tiers.dmn")
        assert "<text>0.75</text>" in saved and "<text>0.7</text>" not in saved
        page.reload()
        page.wait_for_selector("#studio[data-ready=true]")
        page.click("[data-testid=dmn-files] button[data-file='dibao_tiers.dmn']")
        page.wait_for_selector("#studio-dmn[data-ready='dibao_tiers.dmn']")
        assert page.inner_text("#studio-dmn [data-element-id=tier_rule_2_share]").strip() == "0.75"

        # A FEEL range the engine cannot evaluate: located by decision, rule and column; publish blocked.
        _edit(page, "tier_rule_2_in", "[0.3..0.6[")
        bad = page.locator("[data-testid=dmn-lint] tr.lint-error[data-element=tier_rule_2_in]")
        bad.wait_for()
        cells = bad.locator("td").all_inner_texts()
        assert cells[0] == WHERE and "[0.3..0.6[" in cells[1] and "语法错误" in cells[1] and cells[2] == "SCRIPT_SYNTAX"
        page.wait_for_selector("#studio-dmn [data-element-id=tier_rule_2_in].dmn-lint-error")
        assert "修正前不能发布" in page.inner_text("[data-testid=dmn-lint-summary]")
        assert page.is_disabled("[data-testid=studio-publish]")
        page.screenshot(path=screenshot_path("studio-dmn"), full_page=True)

        # Fixed: the error, the mark and the block are gone, and the draft holds the fix.
        _edit(page, "tier_rule_2_in", "0.3 <= ? < 0.6")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=dmn-lint-summary]').textContent.includes('校验通过')"
        )
        assert page.locator("#studio-dmn .dmn-lint-error").count() == 0
        assert page.is_enabled("[data-testid=studio-publish]")
        assert "<text>0.3 &lt;= ? &lt; 0.6</text>" in _draft_file(page, "dibao_tiers.dmn")
        # A publish first flushes an edit still waiting for its autosave.
        _edit(page, "tier_rule_3_share", "0.45")
        page.evaluate("() => Promise.all(jiuzhuStudio.beforePublish.map(flush => flush()))")
        assert "<text>0.45</text>" in _draft_file(page, "dibao_tiers.dmn")

        # A file that is not DMN (an import, say) is listed with its problem, never shown as another table.
        page.evaluate("() => jiuzhuStudio.saveFile('broken.dmn', '<x').then(() => jiuzhuStudio.emit('files'))")
        page.click("[data-testid=dmn-files] button[data-file='broken.dmn']")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=dmn-status]').textContent.includes('无法以决策表打开')"
        )
        assert page.is_hidden("[data-testid=dmn-canvas]")
        assert page.locator("[data-testid=dmn-lint] tr.lint-error[data-code=DMN_INVALID]").count() == 1
        page.evaluate("() => jiuzhuStudio.deleteFile('broken.dmn')")

        # 新建决策表: an empty table to fill in, in the draft and clean under the same lint.
        page.fill("[data-testid=dmn-new-id]", "dibao_extra")
        page.fill("[data-testid=dmn-new-name]", "加发档次")
        page.click("[data-testid=dmn-new]")
        page.wait_for_selector("#studio-dmn[data-ready='dibao_extra.dmn'] [data-element-id=dibao_extra_rule_1_in_1]")
        assert "加发档次" in page.inner_text("[data-testid=dmn-canvas]")
        assert 'decision id="dibao_extra" name="加发档次"' in _draft_file(page, "dibao_extra.dmn")
        assert "本决策表校验通过" in page.inner_text("[data-testid=dmn-lint-summary]")
        assert errors == []
