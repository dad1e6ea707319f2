"""Rules as tests in Chromium, as the designer: 低保 opened in the studio, its
公示 stage cut from 7 to 5 working days in the time-limit editor; 发布 is
refused in Chinese, naming the scenario and its failing step, in the publish
result, the located list and on the 场景 tab at the scenario. The designer
updates the scenario there (the feature file, saved into the draft) and the
same draft publishes as v2.

The publish check runs one real pytest-bdd subprocess per publish; as in
tests/studio/test_scenarios.py it is limited to the scenario the change
breaks, to keep the test quick. Screenshots: test-artifacts/studio-scenario-refused.png,
studio-scenario-marked.png and studio-scenario-edit.png."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jiuzhu.studio.scenarios import ScenarioCheck
from jiuzhu.studio.version_files import version_files
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.studio_versions import NORMAL, PUBLICITY_STEP, publicity_on_the_ninth
from tests.support.studio_world import shipped_dibao

SCENARIO_RUN = 240_000  # ms: one pytest subprocess, seconds on an idle machine, more on a loaded one


def _says(selector: str, text: str) -> str:
    return f"() => (document.querySelector({json.dumps(selector)}) || {{}}).textContent?.includes({json.dumps(text)})"


@pytest.mark.timeout(600)
def test_a_draft_breaking_a_scenario_is_refused_at_its_step_and_publishes_with_the_scenario_updated(
    tmp_path: Path,
) -> None:
    world, _clock = shipped_dibao(tmp_path)
    world.app.state.studio_publish_checks[:] = [ScenarioCheck(timeout=SCENARIO_RUN / 1000, names=(NORMAL,))]
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "designer")
        page.goto(f"{base}/studio")
        page.click("a[data-testid=studio-open][href='/studio/dibao']")
        page.wait_for_selector("#studio[data-ready=true]")
        page.wait_for_function(_says("#studio-lint-summary", "可以发布"))

        # 公示: 7 → 5 working days, in the time-limit editor.
        page.click("a[data-tab=policy]")
        page.select_option("[data-testid=policy-file]", "dibao.national.sla.json")
        limit = page.locator(
            "[data-testid=policy-table] tr[data-stage=publicity] [data-field='stages.publicity.limit'] input"
        )
        assert limit.input_value() == "7"
        limit.fill("5")
        limit.dispatch_event("change")
        page.click("[data-testid=save-policy]")
        page.wait_for_function(_says("[data-testid=policy-status]", "已保存"))
        saved = json.loads(page.evaluate("() => jiuzhuStudio.files['dibao.national.sla.json']"))
        assert saved["stages"]["publicity"]["limit"] == 5

        # 发布: refused by the scenario, in Chinese, naming it and its failing step.
        page.click("a[data-tab=diagram]")
        page.fill("#studio-note", "公示期缩短为5个工作日")
        page.click("[data-testid=studio-publish]")
        page.wait_for_function(_says("#studio-publish-result", "未能发布"), timeout=SCENARIO_RUN)
        result = page.inner_text("[data-testid=studio-publish-result]")
        assert f"场景「{NORMAL}」未通过，在步骤「{PUBLICITY_STEP}」失败" in result, result
        row = page.locator("#studio-lint tr[data-code=SCENARIO_FAILED]")
        assert row.count() == 1 and PUBLICITY_STEP in row.inner_text() and NORMAL in row.inner_text()
        assert "实际 2026-03-09" in row.inner_text()  # the step's own message: what the deadline now is
        assert page.is_disabled("[data-testid=studio-publish]")
        assert [v.version for v in world.engine.versions("dibao")] == [1]
        page.screenshot(path=str(screenshot_path("studio-scenario-refused")), full_page=True)

        # The refusal leads to the scenario on the 场景 tab, marked at its step.
        row.click()
        page.wait_for_selector("#studio-scenarios[data-loaded=true]")
        section = page.locator(f"#studio-scenarios section[data-scenario='{NORMAL}']")
        assert section.is_visible()
        assert f"在步骤「{PUBLICITY_STEP}」失败" in section.locator(".result").inner_text()
        section.screenshot(path=str(screenshot_path("studio-scenario-marked")))

        # The scenario updated in the studio (the feature file, saved into the draft).
        page.click("#studio-scenarios details.feature-edit summary")
        feature = page.locator("#studio-scenarios textarea[data-feature-file='dibao.feature']")
        feature.fill(publicity_on_the_ninth(feature.input_value()))
        page.click("[data-testid=feature-save]")
        page.wait_for_function(_says("[data-testid=feature-status]", "已保存到草稿"))
        assert "「公示」的期限是 2026年3月9日（星期一）" in section.locator("pre").inner_text()
        assert "2026年3月9日（星期一）" in page.evaluate("() => jiuzhuStudio.files['dibao.feature']")
        page.click("#studio-scenarios details.feature-edit summary")  # shows the edited text open
        page.screenshot(path=str(screenshot_path("studio-scenario-edit")), full_page=False)

        # The same draft, its scenario updated, publishes.
        page.click("a[data-tab=diagram]")
        page.wait_for_function("() => !document.querySelector('[data-testid=studio-publish]').disabled")
        page.click("[data-testid=studio-publish]")
        page.wait_for_function(_says("#studio-publish-result", "已发布"), timeout=SCENARIO_RUN)
        assert "已发布 v2" in page.inner_text("[data-testid=studio-publish-result]")
        assert errors == []
    assert [v.version for v in world.engine.versions("dibao")] == [1, 2]
    policy = json.loads(version_files(world.engine, "dibao", 2).files["dibao.national.sla.json"])
    assert policy["stages"]["publicity"]["limit"] == 5
