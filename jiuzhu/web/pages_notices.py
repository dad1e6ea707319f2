"""书面通知: the 不予确认 notice and the 低保 approval notice of a case, and the
一件事联办 result notice (幸福清单) that tells the applicant each item's result, as PDF.

The issuing body, the 复议 body, the court and the appeal periods differ by
county: they come from the notices file (``JIUZHU_NOTICES_FILE``).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.errors import ConflictError, NotFoundError
from jiuzhu import timefmt
from jiuzhu.web.case_data import Decision, decision, household
from jiuzhu.web.case_view import Case, load_case, places
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.deps import CurrentUser, authorize_case
from jiuzhu.web.notice_pdf import notice_pdf

router = APIRouter(include_in_schema=False)
KINDS = {
    "rejection": ("rejection.txt", "最低生活保障不予确认通知书", False),
    "approval": ("approval.txt", "最低生活保障确认通知书", True),
}


def chinese_date(day: date | None) -> str:
    return timefmt.chinese_day(day) if day else "—"


def next_month(day: date) -> str:
    """第二十一条: payment starts the month after the decision."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return f"{year}年{month}月"


def _month(value: str | None) -> str | None:
    if value and len(value) >= 7 and value[4] == "-":
        return f"{int(value[:4])}年{int(value[5:7])}月"
    return value


def notice_values(context: WebContext, case: Case, decided: Decision) -> dict[str, Any]:
    record, data = case.view.record, case.view.data
    profile: dict[str, Any] = json.loads(context.settings.notices_file.read_text(encoding="utf-8"))
    people = household(data)
    township, _village = places(context.directory(), record.org_unit)
    on = case.row.decided_on or timefmt.day_of(context.engine.clock.now())
    return {
        **profile,
        "year": on.year,
        "case_no": case.row.case_no,
        "applicant_name": people.applicant.get("name") or "申请人",
        "accepted_on": chinese_date(case.row.accepted_on),
        "township": township or context.directory().unit_name(record.org_unit),
        "reasons": list(decided.reasons),
        "decided_on": chinese_date(on),
        "household_size": people.size or "—",
        "amount": f"{decided.amount:.2f}" if decided.amount is not None else "—",
        "start_month": _month(decided.start_month) or next_month(on),
        "certificate_no": decided.certificate_no or "—",
    }


HAPPINESS = ("happiness.txt", "社会救助一件事联办结果告知书")


def _row_text(row: dict[str, Any]) -> str:
    if row.get("status") != "已享受":
        return f"未享受，原因：{row.get('reason') or '—'}"
    text = f"已享受，{row.get('benefit') or ''}"
    if row.get("amount") is not None:
        text += f"（{row['amount']:.2f}{row.get('amount_unit') or '元'}）"
    return text


def happiness_values(context: WebContext, case: Case) -> dict[str, Any]:
    record, data = case.view.record, case.view.data
    rows = data.get("happiness_list")
    if not isinstance(rows, list) or not rows:
        raise ConflictError("本案件的联办事项尚未全部反馈，还不能出具幸福清单", code="NOTICE_NOT_APPLICABLE")
    profile: dict[str, Any] = json.loads(context.settings.notices_file.read_text(encoding="utf-8"))
    family = data.get("household")
    applicant = family.get("applicant_name") if isinstance(family, dict) else None
    township, _village = places(context.directory(), record.org_unit)
    on = timefmt.day_of(context.engine.clock.now())
    granted = sum(1 for r in rows if r.get("status") == "已享受")
    return {
        **profile,
        "year": on.year,
        "case_no": case.row.case_no,
        "applicant_name": applicant or "申请人",
        "household_status": data.get("household_status") or "困难",
        "total": len(rows),
        "granted": granted,
        "not_granted": len(rows) - granted,
        "rows": [{"name": r.get("name"), "partner": r.get("partner"), "text": _row_text(r)} for r in rows],
        "township": township or context.directory().unit_name(record.org_unit),
        "issued_on": chinese_date(on),
    }


@router.get("/cases/{instance_id}/notices/{kind}.pdf")
def notice(request: Request, user: CurrentUser, instance_id: str, kind: str) -> Response:
    context = web(request)
    authorize_case(user, context.engine.instance_record(instance_id))
    if kind not in KINDS and kind != "happiness":
        raise NotFoundError(f"没有「{kind}」这种通知书", code="NOTICE_UNKNOWN")
    case = load_case(context, instance_id)
    if kind == "happiness":
        template, title = HAPPINESS
        values = happiness_values(context, case)
    else:
        template, title, approved = KINDS[kind]
        decided = decision(case.view.data)
        if decided.approved is not approved:
            raise ConflictError(f"本案件尚无可出具{title}的审核确认结论", code="NOTICE_NOT_APPLICABLE")
        values = notice_values(context, case, decided)
    body = notice_pdf(template, values, title=title)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{kind}-{case.row.case_no}.pdf"'},
    )
