"""What the diff page (/studio/{id}/diff) drew for one element: its marker
classes, the colours the browser actually painted, and whether it is in view."""

from __future__ import annotations

from playwright.sync_api import Page

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
# diff.css: an added shape is filled light green and outlined dark green.
ADDED_COLOURS = ("rgb(227, 244, 230)", "rgb(46, 125, 50)")


def drawn(page: Page, side: str, element_id: str) -> dict[str, object] | None:
    """The element as drawn on one side ("diagram-from" / "diagram-to"); None when that side has no such element."""
    found: dict[str, object] | None = page.evaluate(SHAPE, [side, element_id])
    return found
