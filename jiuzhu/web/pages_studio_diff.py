"""流程设计 pages of the diff and rules-as-tests (designer / admin only):

- ``/studio/{process_id}/diff?from=1&to=2``: two versions side by side in the
  bpmn-js viewer, added / removed / changed elements coloured, the changes
  listed in Chinese, form fields and time-limit stages as tables.
- ``/studio/{process_id}/scenarios``: the procedure's scenarios (Gherkin as
  written) with a 运行 button per scenario and for all; a fragment when htmx
  asks (the editor's 场景 tab, where the feature files are also editable and
  saved into the draft), a page otherwise.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response

from engine.errors import NotFoundError
from jiuzhu.accounts import ADMIN, DESIGNER
from jiuzhu.settings import Settings
from jiuzhu.studio.diff import KIND_LABELS, diff_versions
from jiuzhu.studio.scenario_files import feature_texts, scenarios_in
from jiuzhu.studio.version_files import version_files
from jiuzhu.web.api_studio_diff import register_check
from jiuzhu.web.auth import Viewer, require_role
from jiuzhu.web.context import web
from jiuzhu.web.studio_access import draft_files_of
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
Designer = Annotated[Viewer, Depends(require_role(DESIGNER, ADMIN))]
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def install_studio_diff(app: FastAPI, settings: Settings) -> None:
    app.include_router(router)
    register_check(app.state, settings)


@router.get("/studio/{process_id}/diff", dependencies=[Depends(require_role(DESIGNER, ADMIN))])
def diff_page(
    request: Request,
    process_id: str,
    from_version: Annotated[int | None, Query(alias="from", ge=1, le=2**31 - 1)] = None,
    to: Version = None,
) -> Response:
    engine = web(request).engine
    versions = sorted(engine.versions(process_id), key=lambda v: v.version)
    if not versions:
        raise NotFoundError(f"流程 {process_id} 尚未发布任何版本", code="PROCESS_NOT_FOUND")
    newest = versions[-1].version
    to_version = to or newest
    old_version = from_version or max(1, to_version - 1)
    old = version_files(engine, process_id, old_version)
    new = version_files(engine, process_id, to_version)
    diff = diff_versions(old.files, new.files)
    viewer_data = {
        "from": {"version": old_version, "xml": old.files[old.model].decode("utf-8", errors="replace")},
        "to": {"version": to_version, "xml": new.files[new.model].decode("utf-8", errors="replace")},
        "markers": diff.markers,
    }
    values = {
        "process_id": process_id,
        "title": new.name,
        "versions": versions,
        "old": old,
        "new": new,
        "diff": diff,
        "kind_labels": KIND_LABELS,
        "viewer_data": viewer_data,
    }
    return render(request, "studio/diff.html", values)


@router.get("/studio/{process_id}/scenarios")
def scenarios_page(request: Request, viewer: Designer, process_id: str) -> Response:
    engine = web(request).engine
    versions = engine.versions(process_id)
    draft = draft_files_of(request, process_id, viewer.username) or {}
    texts = feature_texts(process_id, draft)
    listed = [s for name, text in sorted(texts.items()) for s in scenarios_in(name, text)]
    values = {
        "process_id": process_id,
        "title": versions[-1].name if versions else process_id,
        "has_suite": bool(texts),  # the draft's own (generic binding) or the checkout's
        "scenarios": listed,
        "features": texts,
        "fragment": bool(request.headers.get("hx-request")),
    }
    return render(request, "studio/scenarios.html", values)
