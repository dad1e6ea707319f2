"""统计 (dashboard): cases decided over a period and their on-time share per
procedure and org unit (jiuzhu/web/dashboard_stats.py), overdue open cases by
stage and org unit, overdue and due-soon (预警) lists, a chart (echarts)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.sla.clocks import OVERDUE, WARNING, local_date
from jiuzhu.web.case_view import visible_cases
from jiuzhu.web.context import web
from jiuzhu.web.dashboard_stats import decided_in, overdue_groups, rate_rows
from jiuzhu.web.deps import CurrentUser
from jiuzhu.web.pages_case import LEDGER_LIMIT
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(
    request: Request,
    user: CurrentUser,
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
) -> Response:
    context = web(request)
    today = local_date(context.engine.clock.now())
    since = since or today.replace(month=1, day=1)
    until = until or today
    directory = context.directory()
    cases = visible_cases(context, user, limit=LEDGER_LIMIT)
    decided = decided_in(cases, since, until)
    rates = rate_rows(decided, directory.unit_name, context.process_name)
    running = [c for c in cases if c.view.record.status in ("running", "incident")]
    overdue = [c.row for c in running if c.row.state_code == OVERDUE]
    due_soon = [c.row for c in running if c.row.state_code == WARNING]
    chart = {
        "procedures": [r["procedure"] for r in rates],
        "orgs": [r["org"] for r in rates],
        "rates": [r["rate"] for r in rates],
        "closed": [r["closed"] for r in rates],
    }
    timed = sum(r["timed"] for r in rates)
    on_time = sum(r["on_time"] for r in rates)
    return render(
        request,
        "case/dashboard.html",
        {
            "since": since,
            "until": until,
            "rates": rates,
            "overdue": overdue,
            "due_soon": due_soon,
            "open_count": sum(1 for c in running if c.decision is None),
            "closed": len(decided),
            "rate": round(100 * on_time / timed, 1) if timed else None,
            "overdue_groups": overdue_groups(running, directory.unit_name),
            "chart_json": json.dumps(chart, ensure_ascii=False),
        },
    )
