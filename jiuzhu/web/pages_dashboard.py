"""统计 (SLA dashboard): on-time rate per procedure and org unit over a
period, overdue and due-soon (预警) cases, a chart (echarts)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.clock import SHANGHAI
from engine.sla.clocks import OVERDUE, WARNING, local_date
from jiuzhu.web.case_view import visible_cases
from jiuzhu.web.context import web
from jiuzhu.web.deps import CurrentUser, sees_org
from jiuzhu.web.pages_case import LEDGER_LIMIT
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def rate_rows(report: list[dict[str, Any]], org_name: Any, process_name: Any) -> list[dict[str, Any]]:
    """Per procedure and org unit: the overall limit's on-time rate (stage rows folded in as detail)."""
    grouped: dict[tuple[str, str | None], dict[str, Any]] = {}
    for r in report:
        key = (r["process_id"], r["org_unit"])
        row = grouped.setdefault(
            key,
            {"procedure": process_name(r["process_id"]), "org": org_name(r["org_unit"]), "closed": 0, "on_time": 0,
             "stages": []},
        )  # fmt: skip
        if r["stage"] == "overall":
            row["closed"], row["on_time"] = r["closed"], r["on_time"]
        else:
            row["stages"].append(r)
    out = []
    for row in grouped.values():
        if not row["closed"]:  # no case closed yet: rate over the stages that did
            row["closed"] = sum(s["closed"] for s in row["stages"])
            row["on_time"] = sum(s["on_time"] for s in row["stages"])
        row["rate"] = round(100 * row["on_time"] / row["closed"], 1) if row["closed"] else None
        out.append(row)
    return sorted(out, key=lambda r: (r["procedure"], r["org"]))


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
    report = [
        r
        for r in context.engine.sla_report(_start(since), _start(until + timedelta(days=1)))
        if sees_org(user, r["org_unit"])
    ]
    directory = context.directory()
    rates = rate_rows(report, directory.unit_name, context.process_name)
    cases = [c for c in visible_cases(context, user, limit=LEDGER_LIMIT) if c.view.record.status == "running"]
    overdue = [c.row for c in cases if c.row.state_code == OVERDUE]
    due_soon = [c.row for c in cases if c.row.state_code == WARNING]
    chart = {
        "labels": [f"{r['procedure']}·{r['org']}" for r in rates],
        "rates": [r["rate"] for r in rates],
        "closed": [r["closed"] for r in rates],
    }
    closed = sum(r["closed"] for r in rates)
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
            "open_count": len(cases),
            "closed": closed,
            "rate": round(100 * on_time / closed, 1) if closed else None,
            "chart_json": json.dumps(chart, ensure_ascii=False),
        },
    )
