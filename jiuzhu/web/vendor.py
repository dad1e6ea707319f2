"""Front-end packages vendored from node_modules: served from the checkout,
never fetched at run time."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
# /static/vendor/<name>/… → a package's dist folder; nothing is fetched at run time.
VENDOR = {
    "htmx": NODE_MODULES / "htmx.org" / "dist",
    "bpmn-js": NODE_MODULES / "bpmn-js" / "dist",
    "dmn-js": NODE_MODULES / "dmn-js" / "dist",
    "echarts": NODE_MODULES / "echarts" / "dist",
}
VENDOR_FILES = {"htmx.min.js": VENDOR["htmx"] / "htmx.min.js"}
# The studio's modeler: bpmn-js's ready UMD bundle and its styles (the font embedded in its CSS).
_BPMN_DIST = VENDOR["bpmn-js"]
_TOKEN_SIMULATION = NODE_MODULES / "bpmn-js-token-simulation"
STUDIO_ASSETS = {
    "bpmn-modeler.js": _BPMN_DIST / "bpmn-modeler.production.min.js",
    "diagram-js.css": _BPMN_DIST / "assets" / "diagram-js.css",
    "bpmn-js.css": _BPMN_DIST / "assets" / "bpmn-js.css",
    "bpmn-embedded.css": _BPMN_DIST / "assets" / "bpmn-font" / "css" / "bpmn-embedded.css",
    # bpmn-js-token-simulation: ES modules only, so bundled at install time (Makefile studio-bundle).
    "token-simulation.js": NODE_MODULES / ".jiuzhu" / "token-simulation.js",
    "token-simulation.css": _TOKEN_SIMULATION / "assets" / "css" / "bpmn-js-token-simulation.css",
    # bpmnlint's recommended rules that we keep, packed into one bundle (Makefile studio-bundle).
    "bpmnlint.js": NODE_MODULES / ".jiuzhu" / "bpmnlint.js",
    # CodeMirror 6 for the code fields (form JSON, scripts, conditions): bundled the same way.
    "code-editor.js": NODE_MODULES / ".jiuzhu" / "code-editor.js",
}
# The decision-table editor: dmn-js's ready UMD bundle and the styles of its table view (the
# DRD and literal-expression views are not opened: the engine runs decision tables only).
_DMN_ASSETS = VENDOR["dmn-js"] / "assets"
STUDIO_ASSETS.update({
    "dmn-modeler.js": VENDOR["dmn-js"] / "dmn-modeler.production.min.js",
    "dmn-js-shared.css": _DMN_ASSETS / "dmn-js-shared.css",
    "dmn-js-decision-table.css": _DMN_ASSETS / "dmn-js-decision-table.css",
    "dmn-js-decision-table-controls.css": _DMN_ASSETS / "dmn-js-decision-table-controls.css",
    "dmn-embedded.css": _DMN_ASSETS / "dmn-font" / "css" / "dmn-embedded.css",
})  # fmt: skip
VENDOR_FILES.update({f"studio/{name}": path for name, path in STUDIO_ASSETS.items()})
