"""``jiuzhu session …``: the administrators' list of live sign-ins, and ending
an account's sessions from the command line (a lost laptop, a departure),
also where no administrator can sign in."""

from __future__ import annotations

import argparse

from engine.service.facade import Engine
from jiuzhu import timefmt
from jiuzhu.cli_actor import ACTOR_HELP
from jiuzhu.settings import Settings
from jiuzhu.wiring import session_book


def add_parsers(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("session", help="登录会话").add_subparsers(dest="session_command", required=True)
    listing = cmd.add_parser("list", help="列出有效的登录会话")
    listing.add_argument("--user", default=None, help="只列出该账号的会话")
    end = cmd.add_parser("end", help="结束某账号的全部登录会话（已复制的 Cookie 随之失效）")
    end.add_argument("username")
    end.add_argument("--actor", default=None, help=ACTOR_HELP)


def run(engine: Engine, settings: Settings, args: argparse.Namespace) -> int:
    book = session_book(engine, settings)
    if args.session_command == "list":
        sessions = book.live(args.user)
        for s in sessions:
            seen = timefmt.moment(s.last_seen_at)
            print(f"{s.short}  {s.username}  {s.address}  登录 {timefmt.moment(s.created_at)}  最近访问 {seen}")
        print(f"有效会话 {len(sessions)} 个")
        return 0
    ended = book.end_all(args.username, actor=args.actor, reason="admin")
    print(f"已结束 {args.username} 的 {ended} 个登录会话")
    return 0
