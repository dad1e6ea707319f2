// The case diagram: the instance's own model in the bpmn-js viewer, with the
// current position and the path taken (both computed on the server from the
// audit log) as marker classes. A model without diagram interchange is laid
// out first by bpmn-auto-layout.
import { layoutProcess } from "bpmn-auto-layout";

const READABLE = 0.8;
const box = document.getElementById("diagram");
const facts = JSON.parse(box.dataset.facts);

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
  canvas.zoom("fit-viewport", "auto");
  // A long procedure fitted whole is too small to read: show the current
  // step at a readable size instead (drag and scroll to see the rest).
  const here = facts.current.map((id) => registry.get(id)).find(Boolean);
  if (canvas.zoom() < READABLE && here) {
    canvas.zoom(READABLE);
    canvas.scrollToElement(here);
  }
  box.dataset.ready = "true";
}

show().catch((err) => {
  box.dataset.ready = "error";
  box.textContent = "流程图无法显示：" + err.message;
});
