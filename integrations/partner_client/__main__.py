"""``python -m integrations.partner_client``: work a partner's handoffs from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from integrations.partner_client.client import ApiError, PartnerClient
from integrations.partner_client.receiver import Receiver


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="partner_client", description="联办部门参考客户端")
    parser.add_argument("--url", default=os.environ.get("JIUZHU_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--key", default=os.environ.get("JIUZHU_PARTNER_KEY"), help="API 密钥（或 JIUZHU_PARTNER_KEY）")
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="获取并锁定待办（长轮询）")
    fetch.add_argument("--topic", action="append", default=[])
    fetch.add_argument("--wait", type=int, default=30, help="长轮询秒数")
    done = sub.add_parser("complete", help="反馈结果（JSON）")
    ret = sub.add_parser("return", help="退回民政")
    for p in (done, ret):
        p.add_argument("id")
        p.add_argument("lock_token")
    done.add_argument("result", help='例如 {"granted": true, "benefit": "电费减免"}')
    ret.add_argument("reason")
    recv = sub.add_parser("receive", help="运行 webhook 接收端（校验签名）")
    recv.add_argument("--port", type=int, default=8088)
    recv.add_argument("--secret", default=os.environ.get("JIUZHU_WEBHOOK_SECRET"))
    args = parser.parse_args(argv)
    if args.command == "receive":
        receiver = Receiver(args.secret, lambda e: print(json.dumps(e, ensure_ascii=False), flush=True))
        server = receiver.serve(port=args.port)
        print(f"webhook 接收端：http://127.0.0.1:{server.server_port}/", flush=True)
        try:
            server.serve_forever()
        finally:
            server.shutdown()
        return 0
    client = PartnerClient(args.url, args.key or "")
    out: object
    try:
        if args.command == "fetch":
            out = client.fetch_and_lock(topics=args.topic, wait_ms=args.wait * 1000)
        elif args.command == "complete":
            out = client.complete({"id": args.id, "lock_token": args.lock_token}, json.loads(args.result))
        else:
            out = client.return_({"id": args.id, "lock_token": args.lock_token}, args.reason)
    except ApiError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
