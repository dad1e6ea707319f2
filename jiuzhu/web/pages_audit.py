"""审计: the auditors' case search (``/audit``) and the county's 入户抽查
samples (``/audit/samples``), for 审计人员, 县级民政局 and the administrator,
each within their own org scope like every other case list. Results link to
the case as the auditor replays it (``/audit/cases/{id}``) and to the case page."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from engine.errors import InvalidRequestError, NotFoundError
from integrations.sql.audit_samples import find_sample, recent_samples
from jiuzhu.audit_policy import AuditPolicy, load_audit_policy
from jiuzhu.audit_sample import SampleRequest, redraw, take_sample
from jiuzhu.audit_search import OUTCOME_CHOICES, Terms, search
from jiuzhu.web.auth import AUDIT_ROLES, Viewer, csrf_protected, in_scope, require_role
from jiuzhu.web.context import WebContext, web
from jiuzhu.web.ledger import STATUS_LABELS
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
Auditor = Annotated[Viewer, Depends(require_role(*AUDIT_ROLES))]
Text = Annotated[str | None, Query(max_length=60)]
YES_NO = {"yes": True, "no": False}
UNIT_KINDS = ("county", "township", "village")
SAMPLES_SHOWN = 20
TERMS = frozenset(
    "id_number name org_unit process started_from started_until decided_from decided_until outcome overdue"
    " relatives handled_by".split()
)


def policy_of(context: WebContext) -> AuditPolicy:
    return load_audit_policy(context.settings.audit_file)


def parse_day(value: str | None, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequestError(f"{label}「{value}」无效，应为 YYYY-MM-DD", code="INVALID_DATE") from exc


def _choice(value: str | None, choices: dict[str, bool]) -> bool | None:
    return choices.get(value) if value else None


def unit_choices(context: WebContext, viewer: Viewer, kinds: tuple[str, ...] = UNIT_KINDS) -> list[tuple[str, str]]:
    """(code, indented name) of the county, townships and villages the viewer may search."""
    directory = context.directory()
    units = sorted((u for u in directory.units.values() if u.kind in kinds), key=lambda u: u.code)
    depth = {"county": 0, "township": 1, "village": 2}
    return [(u.code, "　" * depth.get(u.kind, 0) + u.name) for u in units if in_scope(viewer, u.code)]


def process_choices(context: WebContext) -> list[tuple[str, str]]:
    ids = sorted({v.process_id for v in context.engine.versions()})
    return [(p, context.process_name(p)) for p in ids]


@router.get("/audit")
def audit_search(
    request: Request,
    user: Auditor,
    id_number: Annotated[str | None, Query(max_length=18)] = None,
    name: Text = None,
    org_unit: Annotated[str | None, Query(max_length=200)] = None,
    process: Annotated[str | None, Query(max_length=200)] = None,
    started_from: Text = None,
    started_until: Text = None,
    decided_from: Text = None,
    decided_until: Text = None,
    outcome: Annotated[str | None, Query(max_length=20)] = None,
    overdue: Annotated[str | None, Query(pattern="^(yes|no)?$")] = None,
    relatives: Annotated[str | None, Query(pattern="^(yes|no)?$")] = None,
    handled_by: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    context = web(request)
    policy = policy_of(context)
    if outcome and outcome not in OUTCOME_CHOICES:
        raise InvalidRequestError(f"决定结果「{outcome}」无效", code="INVALID_OUTCOME")
    terms = Terms(
        id_number=(id_number or "").strip() or None,
        name=(name or "").strip() or None,
        org_unit=org_unit or None,
        process_id=process or None,
        started_from=parse_day(started_from, "申请起始日"),
        started_until=parse_day(started_until, "申请截止日"),
        decided_from=parse_day(decided_from, "决定起始日"),
        decided_until=parse_day(decided_until, "决定截止日"),
        outcome=outcome or None,
        overdue=_choice(overdue, YES_NO),
        relatives=_choice(relatives, YES_NO),
        handled_by=(handled_by or "").strip() or None,
    )
    asked = {k: v for k, v in request.query_params.items() if k in TERMS and v}
    results = search(context, user.scope, terms, policy, page=page) if asked else None
    return render(
        request,
        "audit/search.html",
        {
            "asked": asked,
            "query": urlencode(asked),
            "results": results,
            "units": unit_choices(context, user),
            "sample_units": unit_choices(context, user, ("county", "township")),
            "processes": process_choices(context),
            "outcomes": OUTCOME_CHOICES,
            "policy": policy.sample,
            "samples": recent_samples(
                context.engine, org_units=None if user.scope is None else list(user.scope), limit=SAMPLES_SHOWN
            ),
            "unit_name": context.directory().unit_name,
            "process_name": context.process_name,
        },
    )


@router.post("/audit/samples", dependencies=[Depends(csrf_protected)])
def draw_sample(
    request: Request,
    user: Auditor,
    org_unit: Annotated[str, Form(max_length=200)],
    share_percent: Annotated[float, Form(gt=0, le=100)],
    process: Annotated[str, Form(max_length=200)] = "",
    decided_from: Annotated[str, Form(max_length=10)] = "",
    decided_until: Annotated[str, Form(max_length=10)] = "",
    seed: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    context = web(request)
    if seed and not seed.isdigit():
        raise InvalidRequestError("随机种子应为非负整数", code="SAMPLE_SEED_INVALID")
    sample_request = SampleRequest(
        org_unit,
        share_percent,
        process or None,
        parse_day(decided_from, "决定起始日"),
        parse_day(decided_until, "决定截止日"),
    )
    sample = take_sample(
        context, user.scope, sample_request, policy_of(context), actor=user.username, seed=int(seed) if seed else None
    )
    return RedirectResponse(f"/audit/samples/{sample.id}", status_code=303)


@router.get("/audit/samples/{sample_id}")
def sample_page(
    request: Request,
    user: Auditor,
    sample_id: str,
    recheck: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    context = web(request)
    sample = find_sample(context.engine, sample_id) if len(sample_id) <= 16 else None
    if sample is None or not in_scope(user, sample.org_unit):
        raise NotFoundError("没有这份抽查样本", code="SAMPLE_NOT_FOUND")
    engine, directory = context.engine, context.directory()
    rows = []
    for iid in sample.instance_ids:
        record = engine.instance_record(iid)
        rows.append(
            {
                "id": iid,
                "case_no": record.business_key or iid[:8],
                "procedure": context.process_name(record.process_id),
                "org_name": directory.unit_name(record.org_unit),
                "status": STATUS_LABELS.get(record.status, record.status),
            }
        )
    again = redraw(context, sample, policy_of(context)) if recheck else None
    return render(
        request,
        "audit/sample.html",
        {
            "sample": sample,
            "rows": rows,
            "again": again,
            "same": again == sample.instance_ids if again is not None else None,
            "unit_name": directory.unit_name,
            "process_name": context.process_name,
            "who": {u.username: u.display_name for u in context.accounts.users()}.get(
                sample.created_by, sample.created_by
            ),
        },
    )
