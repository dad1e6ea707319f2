"""In Chromium, as the designer: the diff of 低保 v1 → v2 draws both diagrams
side by side; the task added in v2 is green on the right and absent on the
left, the renamed one orange on both sides. Screenshot: test-artifacts/studio-diff.png."""

from __future__ import annotations

from pathlib import Path

from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.studio_versions import NEW_TASK, RENAMED
from tests.support.studio_world import two_versions

SHAPE = """([box, id]) => {
  const viewer = document.getElementById(box).viewer;
  const gfx = viewer.get("elementRegistry").getGraphics(id);
  if (!gfx) return null;
  const visual = gfx.querySelector(".djs-visual > :first-child");
  const r = gfx.getBoundingClientRect();
  const frame = document.getElementById(box).getBoundingClientRect();
  return {classes: gfx.getAttribute("class"), fill: getComputedStyle(visual).fill,
          stroke: getComputedStyle(visual).stroke,
          inView: r.x >= frame.x && r.y >= frame.y && r.right <= frame.right && r.bottom <= frame.bottom};
}"""


def test_the_added_task_is_green_on_the_new_side(tmp_path: Path) -> None:
    world = two_versions(tmp_path)
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "designer")
        page.goto(f"{base}/studio/dibao/diff?from=1&to=2")
        page.wait_for_selector("#diagram-to[data-ready=true]", timeout=30000)
        added = page.evaluate(SHAPE, ["diagram-to", NEW_TASK])
        assert added is not None and "diff-added" in added["classes"], added
        assert (added["fill"], added["stroke"]) == ("rgb(227, 244, 230)", "rgb(46, 125, 50)")
        assert added["inView"], "the first change is brought into view"
        assert page.evaluate(SHAPE, ["diagram-from", NEW_TASK]) is None
        flow = page.evaluate(SHAPE, ["diagram-to", "db_f_photo"])
        assert "diff-added" in flow["classes"] and flow["stroke"] == "rgb(46, 125, 50)", flow
        for side in ("diagram-from", "diagram-to"):
            renamed = page.evaluate(SHAPE, [side, RENAMED])
            assert "diff-changed" in renamed["classes"] and renamed["stroke"] == "rgb(224, 142, 0)", (side, renamed)
        assert "新增用户任务「上传公示照片」" in page.locator("[data-testid=element-changes]").inner_text()
        page.screenshot(path=str(screenshot_path("studio-diff")), full_page=True)
        assert errors == []
