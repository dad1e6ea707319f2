"""``jiuzhu audit``: the auditors' commands (``digest``, ``digest-key``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.service.facade import Engine
from jiuzhu.timefmt import moment


def add_parsers(sub: Any) -> None:
    p_audit = sub.add_parser("audit", help="审计：签名摘要等")
    audit_sub = p_audit.add_subparsers(dest="audit_command", required=True)
    p_digest = audit_sub.add_parser("digest", help="立即为全部审计链头写一份签名摘要，并打印其根哈希")
    p_digest.add_argument("--out", type=Path, default=None, help="另存为 JSON 文件（交审计员在库外保存）")
    audit_sub.add_parser("digest-key", help="打印验证签名摘要用的公钥")


def run(engine: Engine, args: argparse.Namespace) -> int:
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
