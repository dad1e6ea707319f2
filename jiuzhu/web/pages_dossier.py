"""一户一档: one case's archive as a zip, for auditors and the county 民政局.

``GET /cases/{id}/dossier.zip`` holds ``dossier.pdf`` (household, every
submitted step and the decision with actor and time, the notices, the
timeline and the 查阅记录, drawn by the notices' PDF machinery in the same
Chinese font), each notice the record supports as its own PDF, and
``events.json``: the case's audit events as stored, with their hashes and
the chain head and, once a signed digest covers the case, that digest's root,
signature and the case's Merkle path, re-verifiable offline by
``python -m jiuzhu.dossier_verify``.
The download is itself an event on the case's chain, recorded before the
export is read, so the archive names its own export.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from io import BytesIO
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from engine.digest import latest_covering
from engine.errors import JiuzhuError
from jiuzhu import timefmt
from jiuzhu.accounts import ADMIN, AUDITOR
from jiuzhu.dossier_verify import EVENTS_FILE, events_document
from jiuzhu.web.access_log import DOSSIER_EXPORTED, accesses
from jiuzhu.web.auth import Viewer, require_role
from jiuzhu.web.case_data import household, masked
from jiuzhu.web.case_decision import OUTCOME_LABELS
from jiuzhu.web.case_view import Case, accepted_at, element_names, load_case
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.deps import authorize_case
from jiuzhu.web.ledger import STATUS_LABELS
from jiuzhu.web.notice_pdf import notice_pdf
from jiuzhu.web.pages_notices import HAPPINESS, available_notices, decision_notice, happiness_values
from jiuzhu.web.timeline import timeline

router = APIRouter(include_in_schema=False)
DOSSIER_ROLES = (AUDITOR, "county_officer", ADMIN)
ACCESS_LOG_ROLES = (AUDITOR, ADMIN)  # who sees 查阅记录 on the case page
PDF_FILE = "dossier.pdf"
Exporter = Annotated[Viewer, Depends(require_role(*DOSSIER_ROLES))]


def who_is(context: WebContext) -> Callable[[str], tuple[str, str]]:
    """username → (display name, roles in Chinese); an actor without an account stands as itself."""
    directory = context.directory()
    users = {u.username: u for u in context.accounts.users()}

    def who(username: str) -> tuple[str, str]:
        user = users.get(username)
        if user is None:  # a 联办 department's system, a system token, the applicant
            return username, "—"
        return user.display_name, "、".join(directory.role_label(r) for r in user.roles) or "—"

    return who


def _person(p: dict[str, Any]) -> str:
    extra = [str(p[k]) for k in ("relation", "id_number") if p.get(k)]
    return f"{p.get('name') or '—'}（{'，'.join(extra)}）" if extra else str(p.get("name") or "—")


def dossier_values(context: WebContext, case: Case) -> dict[str, Any]:
    record, events = case.view.record, case.events
    people = masked(household(case.view.data))  # the archive travels: numbers stay masked
    who = who_is(context)
    names = element_names(context, record)
    steps = [
        {"when": timefmt.moment(e.occurred_at), "who": "{}（{}）".format(*who(e.actor)) if e.actor else "系统",
         "name": e.payload.get("name") or names.get(e.element_id or "", e.element_id)}
        for e in events if e.type == "task_completed"
    ]  # fmt: skip
    decided = case.decision
    decision = None
    if decided is not None:
        decision = {
            "outcome": OUTCOME_LABELS.get(decided.outcome, decided.outcome),
            "who": "{}（{}）".format(*who(decided.decided_by)) if decided.decided_by else "系统",
            "when": timefmt.moment(decided.decided_at),
            "step": decided.task_name or "—",
            "amount": f"{decided.amount:.2f} 元" if decided.amount is not None else None,
            "certificate_no": decided.certificate_no,
            "reasons": list(decided.reasons),
        }
    lines = timeline(events, names, lambda u: who(u)[0])
    return {
        "case_no": case.row.case_no,
        "procedure": context.process_name(record.process_id),
        "org_name": context.directory().unit_name(record.org_unit),
        "status": STATUS_LABELS.get(record.status, record.status),
        "accepted": timefmt.moment(accepted_at(events)) if accepted_at(events) else "未受理",
        "applicant": _person(people.applicant),
        "members": [_person(m) for m in people.members],
        "household_size": people.size or "—",
        "steps": steps,
        "decision": decision,
        "notices": [title for _kind, title in available_notices(context, case)],
        "timeline": [{"when": x.when, "who": x.who or "系统", "text": x.text} for x in lines],
        "accesses": accesses(events, who),
        "event_count": record.event_count,
        "head_hash": record.head_hash,
        "generated": timefmt.moment(context.engine.clock.now()),
        "issuer": "",
    }


def _notices(context: WebContext, case: Case) -> dict[str, bytes]:
    out = {}
    for kind, _title in available_notices(context, case):
        try:
            if kind == "happiness":
                template, title = HAPPINESS
                values = happiness_values(context, case, actor=None)
            else:
                template, title, values = decision_notice(context, case, kind, actor=None)
        except JiuzhuError:
            continue  # not issued (no 文号 yet), or the record supports no such notice: nothing to archive
        out[f"notices/{kind}-{case.row.case_no}.pdf"] = notice_pdf(template, values, title=title)
    return out


def dossier_zip(context: WebContext, instance_id: str) -> tuple[str, bytes]:
    """(file name, zip bytes) of the case as it stands now."""
    case = load_case(context, instance_id)
    record = case.view.record
    title = f"一户一档 {case.row.case_no}"
    files = {PDF_FILE: notice_pdf("dossier.txt", dossier_values(context, case), title=title)}
    files |= _notices(context, case)
    anchors = context.engine.anchors
    covering = latest_covering(anchors.archive.newest_first(), record.id) if anchors is not None else None
    files[EVENTS_FILE] = events_document(
        record.id, case.events, head_count=record.event_count, head_hash=record.head_hash, covering=covering
    ).encode("utf-8")
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return f"dossier-{case.row.case_no}.zip", out.getvalue()


def export_dossier(context: WebContext, instance_id: str, *, actor: str) -> tuple[str, bytes]:
    """The archive as :func:`dossier_zip` builds it, its export first recorded on the
    case's chain (``dossier_exported``): the page's download and ``jiuzhu audit export``."""
    record = context.engine.instance_record(instance_id)
    detail = {"files": [PDF_FILE, EVENTS_FILE], "at_event": record.event_count}
    context.engine.record_access(record.id, DOSSIER_EXPORTED, actor=actor, detail=detail)
    return dossier_zip(context, instance_id)


@router.get("/cases/{instance_id}/dossier.zip")
def dossier(request: Request, user: Exporter, instance_id: str) -> Response:
    context = web(request)
    authorize_case(user, context.engine.instance_record(instance_id))
    name, body = export_dossier(context, instance_id, actor=user.username)
    return Response(
        body, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
