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
    "echarts": NODE_MODULES / "echarts" / "dist",
}
VENDOR_FILES = {"htmx.min.js": VENDOR["htmx"] / "htmx.min.js"}
