"""In Chromium, as the designer: the diff of 低保 v1 → v2 draws both diagrams
side by side; the task added in v2 is green on the right and absent on the
left, the renamed one orange on both sides. Screenshot: test-artifacts/studio-diff.png."""

from __future__ import annotations

from pathlib import Path

from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.diff_view import ADDED_COLOURS, drawn
from tests.support.studio_versions import NEW_TASK, RENAMED
from tests.support.studio_world import two_versions


def test_the_added_task_is_green_on_the_new_side(tmp_path: Path) -> None:
    world = two_versions(tmp_path)
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "designer")
        page.goto(f"{base}/studio/dibao/diff?from=1&to=2")
        page.wait_for_selector("#diagram-to[data-ready=true]", timeout=30000)
        added = drawn(page, "diagram-to", NEW_TASK)
        assert added is not None and "diff-added" in str(added["classes"]), added
        assert (added["fill"], added["stroke"]) == ADDED_COLOURS
        assert added["inView"], "the first change is brought into view"
        assert drawn(page, "diagram-from", NEW_TASK) is None
        flow = drawn(page, "diagram-to", "db_f_photo")
        assert flow is not None and "diff-added" in str(flow["classes"]) and flow["stroke"] == "rgb(46, 125, 50)", flow
        for side in ("diagram-from", "diagram-to"):
            renamed = drawn(page, side, RENAMED)
            assert (
                renamed is not None
                and "diff-changed" in str(renamed["classes"])
                and renamed["stroke"] == "rgb(224, 142, 0)"
            ), (side, renamed)
        assert "新增用户任务「上传公示照片」" in page.locator("[data-testid=element-changes]").inner_text()
        page.screenshot(path=str(screenshot_path("studio-diff")), full_page=True)
        assert errors == []
