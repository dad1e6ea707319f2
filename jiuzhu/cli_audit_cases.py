"""``jiuzhu audit search|sample|show|export``: the auditors' pages on the command
line. A shell with the database's address sees every case, so searches are not
scoped unless ``--org-unit`` narrows them; what a command records (a sample
drawn, a 一户一档 exported) names its actor as every command does
(``jiuzhu/cli_actor.py``)."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from engine.errors import InvalidRequestError
from engine.runtime.task_facts import mask_id
from jiuzhu import timefmt
from jiuzhu.audit_policy import load_audit_policy
from jiuzhu.audit_sample import SampleRequest, take_sample
from jiuzhu.audit_search import OUTCOME_CHOICES, Hit, Terms, search
from jiuzhu.cli_actor import ACTOR_HELP
from jiuzhu.settings import Settings
from jiuzhu.web.case_data import household
from jiuzhu.web.case_decision import OUTCOME_LABELS
from jiuzhu.web.case_view import element_names, load_case
from jiuzhu.web.context import WebContext
from jiuzhu.web.ledger import STATUS_LABELS
from jiuzhu.web.pages_dossier import export_dossier, who_is
from jiuzhu.web.timeline import timeline

COMMANDS = ("search", "sample", "show", "export")
SHOWN_LIMIT = 500  # rows one search prints; --page for more
YES_NO = {"yes": True, "no": False}


def add_parsers(audit: argparse._SubParsersAction) -> None:
    find = audit.add_parser("search", help="按身份证号、姓名、流程、组织机构、日期等查询案件")
    find.add_argument("--id-number", help="申请人或家庭成员的身份证号（精确）")
    find.add_argument("--name", help="家庭成员姓名（包含）")
    find.add_argument("--process", help="流程 ID，如 dibao")
    find.add_argument("--org-unit", help="组织机构代码（含下级）")
    find.add_argument("--since", help="申请日期起 YYYY-MM-DD（含）")
    find.add_argument("--until", help="申请日期止 YYYY-MM-DD（含）")
    find.add_argument("--decided-since", help="决定日期起 YYYY-MM-DD（含）")
    find.add_argument("--decided-until", help="决定日期止 YYYY-MM-DD（含）")
    find.add_argument("--outcome", choices=list(OUTCOME_CHOICES), help="决定结果（pending：尚无决定）")
    find.add_argument("--overdue", choices=list(YES_NO), help="曾超期（yes）或未超期（no）")
    find.add_argument("--relatives", choices=list(YES_NO), help="有（yes）或无（no）近亲属备案")
    find.add_argument("--handled-by", help="在案件审计记录中出现的账号")
    find.add_argument("--page", type=int, default=1, help=f"页码（每页 {SHOWN_LIMIT} 件）")
    find.add_argument("--json", action="store_true", help="以 JSON 输出")
    sample = audit.add_parser("sample", help="抽取入户抽查样本（可用同一种子复核）")
    sample.add_argument("--share", type=float, default=None, help="抽取比例（%%），缺省为审计配置中的比例")
    sample.add_argument("--seed", type=int, default=None, help="随机种子（复核时给出记录中的种子）")
    sample.add_argument("--org-unit", default=None, help="抽样范围（县或乡镇代码），缺省为本县")
    sample.add_argument("--process", default=None, help="流程 ID，如 dibao")
    sample.add_argument("--decided-since", help="决定日期起 YYYY-MM-DD（含）")
    sample.add_argument("--decided-until", help="决定日期止 YYYY-MM-DD（含）")
    sample.add_argument("--actor", default=None, help=ACTOR_HELP)
    show = audit.add_parser("show", help="案件概要与全部审计事件（北京时间）")
    show.add_argument("instance")
    export = audit.add_parser("export", help="导出一户一档 zip（导出本身记入审计链）")
    export.add_argument("instance")
    export.add_argument("-o", "--out", type=Path, required=True, help="zip 文件路径")
    export.add_argument("--actor", default=None, help=ACTOR_HELP)


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequestError(f"{option} {value} 无效，应为 YYYY-MM-DD", code="INVALID_DATE") from exc


def run(context: WebContext, settings: Settings, args: argparse.Namespace) -> int:
    command = args.audit_command
    if command == "search":
        return _search(context, settings, args)
    if command == "sample":
        return _sample(context, settings, args)
    if command == "show":
        return _show(context, args.instance)
    name, body = export_dossier(context, args.instance, actor=args.actor)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(body)
    print(f"已导出一户一档 {name} → {args.out}（{len(body)} 字节；导出已记入该案件审计链）")
    return 0


def _hit_json(h: Hit) -> dict[str, Any]:
    return {
        "instance_id": h.instance_id,
        "case_no": h.case_no,
        "procedure": h.procedure,
        "org_unit": h.org_name,
        "applicant": h.applicant,
        "id_number_masked": h.id_masked,
        "status": h.status,
        "started_at": h.started_at.isoformat(),
        "outcome": h.outcome,
        "decided_at": h.decided_at.isoformat() if h.decided_at else None,
        "overdue": h.overdue,
        "relatives_filed": h.relatives,
    }


def _search(context: WebContext, settings: Settings, args: argparse.Namespace) -> int:
    terms = Terms(
        id_number=args.id_number,
        name=args.name,
        org_unit=args.org_unit,
        process_id=args.process,
        started_from=_day(args.since, "--since"),
        started_until=_day(args.until, "--until"),
        decided_from=_day(args.decided_since, "--decided-since"),
        decided_until=_day(args.decided_until, "--decided-until"),
        outcome=args.outcome,
        overdue=YES_NO.get(args.overdue) if args.overdue else None,
        relatives=YES_NO.get(args.relatives) if args.relatives else None,
        handled_by=args.handled_by,
    )
    found = search(context, None, terms, load_audit_policy(settings.audit_file), page=args.page, page_size=SHOWN_LIMIT)
    if args.json:
        body = {"total": found.total, "page": found.page, "pages": found.pages, "truncated": found.truncated}
        print(json.dumps({**body, "cases": [_hit_json(h) for h in found.hits]}, ensure_ascii=False, indent=1))
        return 0
    for h in found.hits:
        flags = "".join(f"  {f}" for f, on in (("曾超期", h.overdue), ("近亲属备案", h.relatives)) if on)
        decided = f"{h.outcome} {timefmt.moment(h.decided_at)}" if h.outcome else "尚无决定"
        print(
            f"{h.instance_id}  {h.case_no}  {h.applicant or '—'}  {h.id_masked or '—'}  {h.procedure}  "
            f"{h.org_name}  申请 {timefmt.moment(h.started_at)}  {h.status}  {decided}{flags}"
        )
    pages = f"，第 {found.page}/{found.pages} 页" if found.pages > 1 else ""
    print(f"共 {found.total} 件{pages}")
    if found.truncated:
        print(f"只检索了最近的 {found.limit} 件案件，请缩小查询条件")
    return 0


def _sample(context: WebContext, settings: Settings, args: argparse.Namespace) -> int:
    policy = load_audit_policy(settings.audit_file)
    org_unit = args.org_unit
    if org_unit is None:
        counties = [u.code for u in context.directory().units.values() if u.kind == "county"]
        if len(counties) != 1:
            raise InvalidRequestError("请用 --org-unit 指定抽样范围（县或乡镇代码）", code="SAMPLE_SCOPE_MISSING")
        org_unit = counties[0]
    request = SampleRequest(
        org_unit,
        args.share if args.share is not None else policy.sample.share_percent,
        args.process,
        _day(args.decided_since, "--decided-since"),
        _day(args.decided_until, "--decided-until"),
    )
    sample = take_sample(context, None, request, policy, actor=args.actor, seed=args.seed)
    where = context.directory().unit_name(org_unit)
    print(f"入户抽查样本 {sample.id}：{where}，比例 {request.share_percent:g}%，种子 {sample.seed}")
    print(f"已决定案件 {sample.population} 件，抽中 {len(sample.instance_ids)} 件（已记入系统审计链）：")
    for iid in sample.instance_ids:
        print(f"  {iid}")
    return 0


def _show(context: WebContext, instance_id: str) -> int:
    case = load_case(context, instance_id)
    record, events = case.view.record, case.events
    people = household(case.view.data)
    who = who_is(context)
    print(f"案件 {case.row.case_no}（{record.id}）")
    print(f"  事项：{context.process_name(record.process_id)} v{record.version}")
    print(f"  机构：{context.directory().unit_name(record.org_unit)}")
    print(f"  申请人：{people.applicant.get('name') or '—'}  {mask_id(people.applicant.get('id_number')) or '—'}")
    print(f"  状态：{STATUS_LABELS.get(record.status, record.status)}  申请时间：{timefmt.moment(record.created_at)}")
    if case.decision is not None:
        decided = OUTCOME_LABELS.get(case.decision.outcome, case.decision.outcome)
        print(f"  决定：{decided}  {timefmt.moment(case.decision.decided_at)}")
    print(f"  审计事件 {record.event_count} 条，链头 {record.head_hash}")
    told = {line.seq: line.text for line in timeline(events, element_names(context, record))}
    for e in events:
        actor = "{}（{}）".format(*who(e.actor)) if e.actor else "系统"
        print(f"{e.seq:>5}  {timefmt.moment(e.occurred_at, seconds=True)}  {actor}  {told.get(e.seq, e.type)}")
    return 0
