"""Mounting the case, dashboard and notice pages, and the ES modules the
diagram's auto-layout imports (served from node_modules, never fetched)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from jiuzhu.web.vendor import NODE_MODULES

# import-map name → the package's ES-module folder
ESM_VENDOR = {
    "bpmn-auto-layout": "bpmn-auto-layout/dist",
    "bpmn-moddle": "bpmn-moddle/dist",
    "moddle": "moddle/dist",
    "moddle-xml": "moddle-xml/dist",
    "min-dash": "min-dash/dist",
    "saxen": "saxen/dist",
}


def install_case_pages(app: FastAPI) -> None:
    from jiuzhu.web import (
        pages_audit,
        pages_audit_case,
        pages_case,
        pages_dashboard,
        pages_dossier,
        pages_notices,
        pages_replay,
        pages_start,
    )

    for name, folder in ESM_VENDOR.items():
        directory = StaticFiles(directory=NODE_MODULES / folder, check_dir=False)
        app.mount(f"/static/vendor/{name}", directory, name=f"vendor-{name}")
    app.include_router(pages_dashboard.router)
    app.include_router(pages_notices.router)
    app.include_router(pages_dossier.router)
    app.include_router(pages_audit.router)
    app.include_router(pages_replay.router)
    app.include_router(pages_start.router)  # before /cases/{instance_id}, which would take "new"
    app.include_router(pages_case.router)
    app.include_router(pages_audit_case.router)
