"""令牌模拟 in the studio's modeler (bpmn-js-token-simulation, bundled at install time):
a designer toggles it on the 时限骨架 draft, starts a token at the start event and sees it
travel; modeling is off while it runs and back when toggled off. Labels are Chinese."""

from __future__ import annotations

import pytest

from tests.support.browser_support import chromium, serving, sign_in
from tests.support.web_support import WebWorld


@pytest.mark.timeout(180)
def test_a_designer_toggles_the_token_simulation_and_walks_a_path(world: WebWorld) -> None:
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "designer")
        page.goto(f"{base}/studio/sla_skeleton")
        page.wait_for_selector("#studio[data-ready=true]")
        toggle = page.locator(".bts-toggle-mode")
        assert toggle.inner_text().strip() == "令牌模拟"
        assert page.locator(".djs-palette:not(.hidden)").count() == 1
        toggle.click()
        assert page.locator(".simulation #studio-canvas, #studio-canvas.simulation, .simulation").count() >= 1
        assert page.locator(".djs-palette.hidden").count() == 1  # no modeling while simulating
        assert page.get_attribute(".bts-palette [title]", "title") in ("播放/暂停", "重置模拟", "模拟日志")
        start = page.locator(".bts-context-pad").first
        start.click()
        page.wait_for_selector(".bts-token-count, .bts-animation-tokens *", timeout=15000)
        page.wait_for_selector(".bts-log .bts-text:has-text('流程开始')", state="attached")
        page.screenshot(path="/tmp/studio-token-simulation.png")
        toggle.click()
        assert page.locator(".djs-palette:not(.hidden)").count() == 1
    assert errors == []
