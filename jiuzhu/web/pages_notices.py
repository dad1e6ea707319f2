"""书面通知: the decision notices of a case (低保 确认通知书 and 不予确认通知书,
the 临时救助 and 一事一议 decision notices), and the 一件事联办 result notice
(幸福清单) that tells the applicant each item's result, as PDF.

A decision notice prints only for a case the engine's record shows decided
(engine/decisions.py, rules in processes/*/*.decisions.json); its outcome,
amount, payment month, certificate number, reasons, date and deciding body
come from that Decision, never from case data. The bodies' names, the 复议
body, the court, the appeal periods and the hotline differ by county: they
come from the notices file (``JIUZHU_NOTICES_FILE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.audit import AuditEvent
from engine.decisions import Decision
from engine.errors import ConflictError, NotFoundError
from integrations import notice_numbers
from integrations.notice_numbers import Notice
from jiuzhu import timefmt
from jiuzhu.web.case_data import household
from jiuzhu.web.case_decision import case_rules, document_prefix, issuing_key, notices_profile, township_body
from jiuzhu.web.case_view import Case, load_case, places
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.deps import CurrentUser, authorize_case
from jiuzhu.web.notice_pdf import notice_pdf

router = APIRouter(include_in_schema=False)
DECISION_KINDS = ("approval", "rejection")


def chinese_date(day: date | None) -> str:
    return timefmt.chinese_day(day) if day else "—"


def chinese_month(value: str | None) -> str:
    if value and len(value) == 7 and value[4] == "-":
        return f"{int(value[:4])}年{int(value[5:7])}月"
    return "—"


def referral(data: dict[str, Any]) -> dict[str, str] | None:
    """Who referred the case (一事一议: the township or office that brought it to the
    coordination mechanism) when it did not start with the applicant's own application."""
    org = data.get("referring_org")
    if not isinstance(org, str) or not org:
        return None
    procedure = data.get("referral_procedure")
    return {"org": org, "procedure": procedure if isinstance(procedure, str) else ""}


def numbered(context: WebContext, notice: Notice, *, key: str, body: str, year: int, actor: str | None) -> str:
    """The notice's 文号, given the first time it is issued and the same on every reprint;
    without an ``actor`` (an archive copying what was issued) only a number already given."""
    if actor is None:
        found = notice_numbers.find(context.engine, notice)
        if found is None:
            raise ConflictError("该通知书尚未出具", code="NOTICE_NOT_ISSUED")
        return found.number
    prefix = document_prefix(notices_profile(context.settings.notices_file), key, body)
    return notice_numbers.issue(context.engine, notice, issuer=prefix, year=year, actor=actor).number


def notice_values(context: WebContext, case: Case, decided: Decision, title: str) -> dict[str, Any]:
    record, data = case.view.record, case.view.data
    profile = notices_profile(context.settings.notices_file)
    people = household(data)
    township, _village = places(context.directory(), record.org_unit)
    on = timefmt.day_of(decided.decided_at)
    return {
        **profile,
        "title": title,
        "procedure": context.process_name(record.process_id),
        "issuer": case.row.decided_body or profile["issuer"],
        "year": on.year,
        "referral": referral(data),
        "delivered_through": township_body(township) if township else profile["issuer"],
        "case_no": case.row.case_no,
        "applicant_name": people.applicant.get("name") or "申请人",
        "accepted_on": chinese_date(case.row.accepted_on),
        "township": township or context.directory().unit_name(record.org_unit),
        "reasons": list(decided.reasons),
        "decided_on": chinese_date(on),
        "household_size": people.size or "—",
        "amount": f"{decided.amount:.2f}" if decided.amount is not None else "—",
        "start_month": chinese_month(decided.payment_start),
        "certificate_no": decided.certificate_no or "—",
    }


def decision_notice(
    context: WebContext, case: Case, kind: str, *, actor: str | None
) -> tuple[str, str, dict[str, Any]]:
    """(template, title, values) of a decision notice, or 409 when the record shows no such decision;
    the notice's 文号 is allocated the first time it is issued."""
    rules = case_rules(context.settings.processes_dir, case.view.record, context.engine)
    found = rules.notice(kind) if rules is not None else None
    if found is None:
        raise ConflictError("本流程没有这种决定通知书", code="NOTICE_NOT_APPLICABLE")
    outcome, notice_kind = found
    decided = case.decision
    if decided is None or decided.outcome != outcome:
        raise ConflictError(
            f"本案件尚无可出具{notice_kind.title}的决定：须在决定环节办结后出具", code="NOTICE_NOT_APPLICABLE"
        )
    values = notice_values(context, case, decided, notice_kind.title)
    key = issuing_key(decided, context.directory(), case.view.record.org_unit)
    notice = Notice(case.view.record.id, decided.seq, notice_kind.kind, notice_kind.title)
    values["notice_no"] = numbered(context, notice, key=key, body=values["issuer"], year=values["year"], actor=actor)
    return notice_kind.template, notice_kind.title, values


def available_notices(context: WebContext, case: Case) -> list[tuple[str, str]]:
    """(kind, title) of each notice the case can print now."""
    out = []
    rules = case_rules(context.settings.processes_dir, case.view.record, context.engine)
    if rules is not None and case.decision is not None:
        notice = rules.notice_for(case.decision.outcome)
        if notice is not None:
            out.append((notice.kind, notice.title))
    if recorded_happiness(case.events):
        out.append(("happiness", HAPPINESS[1]))
    return out


HAPPINESS = ("happiness.txt", "社会救助一件事联办结果告知书")


def _row_text(row: dict[str, Any]) -> str:
    if row.get("status") != "已享受":
        return f"未享受，原因：{row.get('reason') or '—'}"
    text = f"已享受，{row.get('benefit') or ''}"
    if row.get("amount") is not None:
        text += f"（{row['amount']:.2f}{row.get('amount_unit') or '元'}）"
    return text


def recorded_happiness(events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
    """The 幸福清单 as the engine's script recorded it (yijianshi.bpmn 汇总幸福清单)."""
    return happiness_record(events)[1]


def happiness_record(events: Sequence[AuditEvent]) -> tuple[int, list[dict[str, Any]]]:
    """(seq of the recording event, rows) of the 幸福清单; (0, []) while not recorded."""
    for e in reversed(events):
        if e.type != "script_run":
            continue
        diff = e.payload.get("data_diff") or {}
        rows = (diff.get("added") or {}).get("happiness_list")
        if rows is None:
            changed = (diff.get("changed") or {}).get("happiness_list")
            rows = changed.get("new") if isinstance(changed, dict) else None
        if isinstance(rows, list) and rows:
            return e.seq, [r for r in rows if isinstance(r, dict)]
    return 0, []


def happiness_values(context: WebContext, case: Case, *, actor: str | None) -> dict[str, Any]:
    record, data = case.view.record, case.view.data
    recorded_seq, rows = happiness_record(case.events)
    if not rows:
        raise ConflictError("本案件的联办事项尚未全部反馈，还不能出具幸福清单", code="NOTICE_NOT_APPLICABLE")
    profile = notices_profile(context.settings.notices_file)
    family = data.get("household")
    applicant = family.get("applicant_name") if isinstance(family, dict) else None
    township, _village = places(context.directory(), record.org_unit)
    on = timefmt.day_of(context.engine.clock.now())
    granted = sum(1 for r in rows if r.get("status") == "已享受")
    notice = Notice(record.id, recorded_seq, "happiness", HAPPINESS[1])
    number = numbered(context, notice, key="county", body=profile["issuer"], year=on.year, actor=actor)
    return {
        **profile,
        "notice_no": number,
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
    if kind not in DECISION_KINDS and kind != "happiness":
        raise NotFoundError(f"没有「{kind}」这种通知书", code="NOTICE_UNKNOWN")
    case = load_case(context, instance_id)
    if kind == "happiness":
        template, title = HAPPINESS
        values = happiness_values(context, case, actor=user.username)
    else:
        template, title, values = decision_notice(context, case, kind, actor=user.username)
    body = notice_pdf(template, values, title=title)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{kind}-{case.row.case_no}.pdf"'},
    )
