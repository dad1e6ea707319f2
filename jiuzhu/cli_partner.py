"""``jiuzhu partner …`` and ``jiuzhu deliver``: partner keys, webhook endpoints, the outbox."""

from __future__ import annotations

import argparse
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from engine.service.facade import Engine
from integrations.partner import keys, webhooks
from integrations.partner.wake import PREFIX, stream_key
from jiuzhu.cli_actor import ACTOR_HELP


def add_parsers(sub: argparse._SubParsersAction) -> None:
    partner = sub.add_parser("partner", help="联办部门接入").add_subparsers(dest="partner_command", required=True)
    key = partner.add_parser("key", help="API 密钥").add_subparsers(dest="key_command", required=True)
    for name, text in (("create", "签发新密钥（只显示一次）"), ("rotate", "轮换：签发新密钥，旧密钥过渡期后失效"),
                       ("revoke", "吊销该部门的全部密钥")):  # fmt: skip
        p = key.add_parser(name, help=text)
        p.add_argument("dept", help="部门名称（供电公司）或机构代码（qinghe.partner.power）")
        p.add_argument("--actor", default=None, help=ACTOR_HELP)
        if name == "rotate":
            p.add_argument("--overlap-hours", type=float, default=24.0, help="旧密钥继续有效的小时数；0 为立即吊销")
    hook = partner.add_parser("webhook", help="设置推送地址（签名密钥只显示一次）")
    hook.add_argument("dept")
    hook.add_argument("url")
    hook.add_argument("--actor", default=None, help=ACTOR_HELP)
    box = partner.add_parser("outbox", help="推送事件与投递状态")
    box.add_argument("--status", choices=["pending", "delivered", "dead"], default=None)
    again = partner.add_parser("requeue", help="死信重新投递")
    again.add_argument("event_id")
    again.add_argument("--actor", default=None, help=ACTOR_HELP)

    deliver = sub.add_parser("deliver", help="投递 webhook（可多进程；配合 REDIS_URL 即时唤醒）")
    deliver.add_argument("--once", action="store_true", help="投递一轮后退出")
    deliver.add_argument("--interval", type=float, default=2.0, help="无 Redis 时轮询数据库的间隔（秒）")
    deliver.add_argument("--backoff-seconds", type=float, default=30.0, help="重试退避基数（秒，按 2 的幂增长）")
    deliver.add_argument("--max-attempts", type=int, default=8, help="超过后进入死信")
    claim = webhooks.DeliveryPolicy().claim_for.total_seconds()
    deliver.add_argument("--claim-seconds", type=float, default=claim,
                         help="一次投递占用事件的时长（秒）；投递中途退出的工作进程过后由其他进程重投")  # fmt: skip


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def deliver_loop(engine: Engine, policy: webhooks.DeliveryPolicy, *, interval: float, redis: Any = None,
                 stop: threading.Event | None = None, prefix: str = PREFIX) -> None:  # fmt: skip
    """Deliver until stopped; woken by the Redis stream (its key under ``prefix``) when there is one, else by
    polling the database."""
    stop = stop or threading.Event()
    stream = stream_key(prefix)
    last = "$"
    while not stop.is_set():
        webhooks.deliver_due(engine, http_post, policy)
        if redis is None:
            stop.wait(interval)
            continue
        try:
            got = redis.xread({stream: last}, block=int(interval * 1000), count=100)
            if got:
                last = got[-1][1][-1][0]
        except Exception:  # Redis only wakes the loop; the outbox is in the database
            stop.wait(interval)


def run(engine: Engine, args: argparse.Namespace, redis: Any = None, *, prefix: str = PREFIX) -> int:
    if args.command == "deliver":
        policy = webhooks.DeliveryPolicy(backoff_base=timedelta(seconds=args.backoff_seconds),
                                         max_attempts=args.max_attempts,
                                         claim_for=timedelta(seconds=args.claim_seconds))  # fmt: skip
        if args.once:
            print(f"已投递 {webhooks.deliver_due(engine, http_post, policy)} 条")
            return 0
        deliver_loop(engine, policy, interval=args.interval, redis=redis, prefix=prefix)
        return 0
    command = args.partner_command
    if command == "outbox":
        for row in webhooks.outbox(engine, status=args.status):
            print(f"{row['id']}  {row['type']:<18}{row['department']:<10}{row['status']:<10}"
                  f"尝试 {row['attempts']}  {row['last_error'] or ''}")  # fmt: skip
        return 0
    if command == "requeue":
        webhooks.requeue(engine, args.event_id, actor=args.actor)
        print(f"{args.event_id} 已重新排队")
        return 0
    department = keys.department_of(args.dept)
    if command == "webhook":
        secret = webhooks.set_endpoint(engine, department, args.url, actor=args.actor)
        print(f"{department} 推送地址已设置：{args.url}\n签名密钥（只显示这一次）：{secret}")
        return 0
    if args.key_command == "revoke":
        print(f"{department}：已吊销 {keys.revoke(engine, department, actor=args.actor)} 个密钥")
        return 0
    if args.key_command == "rotate":
        overlap = timedelta(hours=args.overlap_hours)
        key = keys.rotate(engine, department, overlap=overlap, actor=args.actor)
    else:
        key = keys.create(engine, department, actor=args.actor)
    print(f"{department} 的新 API 密钥（只显示这一次，请妥善保存）：\n{key}")
    return 0
