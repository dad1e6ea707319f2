"""推送投递: the administrators' view of the webhook outbox (pending,
delivered, dead letters with their last error) and the requeue of a dead
letter. The same data as ``GET /api/outbox`` and ``jiuzhu partner outbox``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from engine.errors import JiuzhuError
from integrations.partner import webhooks
from jiuzhu.accounts import ADMIN
from jiuzhu.web.auth import Viewer, csrf_protected, require_role
from jiuzhu.web.context import web
from jiuzhu.web.pages_inbox import flash, take_flashes
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
Admin = Annotated[Viewer, Depends(require_role(ADMIN))]
TABS = {"dead": "死信", "pending": "待投递", "delivered": "已送达"}
LIMIT = 200  # newest events per tab


@router.get("/outbox", dependencies=[Depends(require_role(ADMIN))])
def outbox_page(
    request: Request, status: Annotated[str, Query(pattern="^(dead|pending|delivered)$")] = "dead"
) -> Response:
    engine = web(request).engine
    rows = webhooks.outbox(engine, status=status, limit=LIMIT)
    for row in rows:
        row["next_attempt_at"] = datetime.fromisoformat(row["next_attempt_at"])
    counts = webhooks.counts(engine)
    return render(request, "outbox.html", {"rows": rows, "status": status, "tabs": TABS, "counts": counts,
                                           "flashes": take_flashes(request)})  # fmt: skip


@router.post("/outbox/{event_id}/requeue", dependencies=[Depends(csrf_protected)])
def requeue(request: Request, viewer: Admin, event_id: str) -> Response:
    try:
        webhooks.requeue(web(request).engine, event_id, actor=viewer.username)
        flash(request, f"推送事件 {event_id} 已重新排队投递")
    except JiuzhuError as exc:
        flash(request, f"未能重新排队：{exc.message}", code=exc.code)
    return RedirectResponse("/outbox?status=dead", status_code=303)
