"""``jiuzhu audit …``: auditors' commands (signed chain-head digests, 档案保管期限 report,
offline check of a 一户一档 export; case search, 入户抽查 samples, a case's events and its
一户一档 export in ``jiuzhu/cli_audit_cases.py``)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from engine.errors import InvalidRequestError
from engine.service.facade import Engine
from jiuzhu import cli_audit_cases, cli_replay, dossier_verify
from jiuzhu.retention import Retention, due_before, load_policy, retention
from jiuzhu.settings import Settings
from jiuzhu.timefmt import moment
from jiuzhu.web.auth import AUDIT_ROLES
from jiuzhu.web.case_decision import decision_of
from jiuzhu.wiring import build_web_context

REPORT_LIMIT = 100_000  # cases read for one report
ACTOR_ROLES = AUDIT_ROLES  # whom --actor may name for a sample drawn or a 一户一档 exported


def add_parsers(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="审计").add_subparsers(dest="audit_command", required=True)
    digest = audit.add_parser("digest", help="立即为全部审计链头写一份签名摘要，并打印其根哈希")
    digest.add_argument("--out", type=Path, default=None, help="另存为 JSON 文件（交审计员在库外保存）")
    audit.add_parser("digest-key", help="打印验证签名摘要用的公钥")
    report = audit.add_parser("retention", help="列出保管期限在某日之前届满的案件档案")
    report.add_argument("--before", required=True, help="YYYY-MM-DD（不含）")
    check = audit.add_parser("verify-file", help="离线校验一户一档 zip（或 events.json）中的审计链")
    check.add_argument("file")
    check.add_argument("--public-key", help="部署公布的签名公钥（十六进制），与档案中的签名摘要核对")
    cli_audit_cases.add_parsers(audit)
    replay = audit.add_parser("replay", help="复算（重新执行）一件案件，比对每条审计事件")
    replay.add_argument("instance")
    cli_replay.add_arguments(replay)


def retentions(engine: Engine, settings: Settings) -> list[Retention]:
    policy = load_policy(settings.retention_file)
    out = []
    for record in engine.list_instances(limit=REPORT_LIMIT):
        events = engine.events(record.id)
        decided = decision_of(settings.processes_dir, record, events, engine)
        data = dict(engine.get(record.id).data)
        out.append(retention(policy, record.id, events, data, decided.outcome if decided else None))
    return out


def offline(args: argparse.Namespace) -> int | None:
    """A command that needs no database (verify-file runs anywhere an auditor keeps the zip)."""
    if args.audit_command != "verify-file":
        return None
    return dossier_verify.main([args.file, *(["--public-key", args.public_key] if args.public_key else [])])


def run(engine: Engine, settings: Settings, args: argparse.Namespace) -> int:
    if args.audit_command in cli_audit_cases.COMMANDS:
        return cli_audit_cases.run(build_web_context(engine, settings), settings, args)
    if args.audit_command in ("digest", "digest-key"):
        return _digest(engine, args)
    if args.audit_command == "replay":
        return cli_replay.run(engine, args.instance, args.max_events)
    try:
        before = date.fromisoformat(args.before)
    except ValueError as exc:
        raise InvalidRequestError(f"日期 {args.before} 无效，应为 YYYY-MM-DD", code="INVALID_DATE") from exc
    due = due_before(retentions(engine, settings), before)
    for r in due:
        exited = f"  退出 {r.exited_on}" if r.exited_on else ""
        print(f"{r.instance_id}  办结 {r.ended_on}{exited}  保管至 {r.due_on}  {r.reason}")
    print(f"共 {len(due)} 件档案的保管期限在 {before} 之前届满")
    return 0


def _digest(engine: Engine, args: argparse.Namespace) -> int:
    if engine.anchors is None:
        print("未配置摘要签名密钥：请设置 JIUZHU_DIGEST_KEY_FILE 或 JIUZHU_DIGEST_KEY", file=sys.stderr)
        return 2
    if args.audit_command == "digest-key":
        print(f"Ed25519 {engine.anchors.keys.public_key}")
        return 0
    digest = engine.write_digest()
    print(f"签名摘要 #{digest.id}：{len(digest.leaves)} 条审计链，{moment(digest.created_at)}")
    print(f"根哈希 {digest.root}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(digest.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"已写入 {args.out}")
    return 0
