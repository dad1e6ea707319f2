"""校验（复算）: an auditor re-executes a case from the page and sees 复算一致
or the first event that differs (:mod:`jiuzhu.replaying`, :mod:`engine.replay`).

``POST /audit/cases/{id}/replay`` (CSRF-checked like every form) answers a
small page, or only its result fragment when htmx asks (``HX-Request``). The
replay itself is recorded on the case's chain (``case_replayed``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from engine.replay import ReplayTooLong
from engine.replay_compare import CONSISTENT
from jiuzhu.accounts import ADMIN, AUDITOR
from jiuzhu.replaying import replay_case
from jiuzhu.web.auth import Viewer, csrf_protected, require_role
from jiuzhu.web.context import web
from jiuzhu.web.deps import authorize_case
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
REPLAY_ROLES = (AUDITOR, "county_officer", ADMIN)
PATH = "/audit/cases/{instance_id}/replay"
Auditor = Annotated[Viewer, Depends(require_role(*REPLAY_ROLES))]


@router.post(PATH, dependencies=[Depends(csrf_protected)])
def replay(request: Request, viewer: Auditor, instance_id: str) -> Response:
    context = web(request)
    authorize_case(viewer, context.engine.instance_record(instance_id))
    values: dict[str, object] = {"instance_id": instance_id, "consistent_label": CONSISTENT}
    try:
        values["result"] = replay_case(context.engine, instance_id, actor=viewer.username)
    except ReplayTooLong as exc:  # bounded: refused before it holds the worker
        values["refused"] = f"{exc.message}（{exc.code}）"
    fragment = request.headers.get("HX-Request") == "true"
    return render(request, "audit/_replay_result.html" if fragment else "audit/replay.html", values)
