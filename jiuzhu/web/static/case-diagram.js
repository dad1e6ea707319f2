// The case diagram: the instance's own model in the bpmn-js viewer, with the
// current position and the path taken (both computed on the server from the
// audit log) as marker classes. The model's own diagram (BPMN DI: lanes as
// bands, laid out by the designer or tools/layout_bpmn.py) is drawn as is; a
// model without one is laid out first by bpmn-auto-layout (no lanes).
import { layoutProcess } from "bpmn-auto-layout";

// Never smaller than this at first sight: a 100×80 task stays ≥ 75×60 px.
const READABLE = 0.75;
const PAD = 20;
const box = document.getElementById("diagram");
const facts = JSON.parse(box.dataset.facts);

// Fit the width when that is readable; otherwise keep the readable scale and
// start at the current step, or on a finished case with the last step at the
// right edge, so the end of the path taken is what one sees (drag to pan,
// Ctrl+wheel to zoom). The box grows to the diagram's height at that scale,
// within the window.
function home(viewer) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  canvas.zoom(1);
  const inner = canvas.viewbox().inner;
  const scale = Math.min(1, Math.max(READABLE, (box.clientWidth - 2 * PAD) / inner.width));
  const tallest = Math.max(360, Math.round(window.innerHeight * 0.8));
  box.style.height = Math.min(tallest, Math.max(320, Math.ceil(inner.height * scale + 2 * PAD))) + "px";
  canvas.resized();
  const width = box.clientWidth / scale;
  const height = box.clientHeight / scale;
  let x = inner.x - PAD / scale;
  let y = inner.y - PAD / scale;
  const here = facts.current.map((id) => registry.get(id)).filter(Boolean)[0];
  const last = facts.last ? registry.get(facts.last) : null;
  if (here) {
    if (here.x + here.width > x + width - PAD) x = here.x + here.width / 2 - width / 2;
    if (here.y + here.height > y + height - PAD) y = here.y + here.height / 2 - height / 2;
  } else if (last) {
    x = last.x + last.width + (2 * PAD) / scale - width;
    if (last.y + last.height > y + height - PAD) y = last.y + last.height / 2 - height / 2;
  }
  x = Math.max(inner.x - PAD / scale, Math.min(x, inner.x + inner.width + PAD / scale - width));
  y = Math.max(inner.y - PAD / scale, Math.min(y, inner.y + inner.height + PAD / scale - height));
  canvas.viewbox({ x, y, width, height });
}

function toolbar(viewer) {
  const canvas = viewer.get("canvas");
  const bar = document.createElement("div");
  bar.className = "diagram-tools";
  const button = (label, testid, action) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.testid = testid;
    b.addEventListener("click", action);
    bar.appendChild(b);
  };
  button(facts.current.length ? "回到当前环节" : "回到最后环节", "diagram-home", () => home(viewer));
  button("全图", "diagram-fit", () => canvas.zoom("fit-viewport", "auto"));
  button("放大", "diagram-zoom-in", () => canvas.zoom(canvas.zoom() * 1.25));
  button("缩小", "diagram-zoom-out", () => canvas.zoom(canvas.zoom() / 1.25));
  const hint = document.createElement("span");
  hint.className = "muted";
  hint.textContent = "拖动可平移，Ctrl+滚轮可缩放";
  bar.appendChild(hint);
  box.before(bar);
}

async function show() {
  let xml = await (await fetch(facts.xml, { credentials: "same-origin" })).text();
  if (!/BPMNDiagram/.test(xml)) {
    xml = await layoutProcess(xml);
  }
  const viewer = new window.BpmnJS({ container: box });
  await viewer.importXML(xml);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const mark = (ids, cls) => ids.filter((id) => registry.get(id)).forEach((id) => canvas.addMarker(id, cls));
  mark(facts.completed, "jz-done");
  mark(facts.flows, "jz-path");
  mark(facts.current, "jz-current");
  box.viewer = viewer; // for the browser tests
  home(viewer);
  toolbar(viewer);
  box.dataset.ready = "true";
}

show().catch((err) => {
  box.dataset.ready = "error";
  box.textContent = "流程图无法显示：" + err.message;
});
