"""``jiuzhu`` command line: deploy, serve, verify."""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from redis import Redis

from engine.errors import DeploymentRefused, JiuzhuError
from engine.service.facade import Engine
from integrations.sql import make_engine, migrations
from integrations.sql.accounts import SqlAccounts
from integrations.sql.store import SqlStore
from jiuzhu import cli_audit, cli_calendar, cli_partner, cli_replay, cli_sessions
from jiuzhu.accounts import demo_accounts_table
from jiuzhu.cli_actor import ACTOR_HELP, ADMIN_ROLES, DEPLOY_ROLES, actor_for
from jiuzhu.scheduler import redis_prefix, run_scheduler
from jiuzhu.settings import ROOT, Settings
from jiuzhu.web.throttle import UVICORN_PROXY_OPTIONS
from jiuzhu.wiring import build_engine, build_web_context, demo_digest_key, deploy_paths, load_demo_accounts


def _deploy(engine: Engine, settings: Settings, paths: Sequence[str], actor: str | None) -> int:
    try:
        result = deploy_paths(engine, [Path(p) for p in paths], settings.forms_dir, actor=actor)
    except DeploymentRefused as refused:
        for problem in refused.errors:
            print(problem.describe(), file=sys.stderr)
        print(f"部署被拒绝：{len(refused.errors)} 个问题", file=sys.stderr)
        return 1
    state = "已部署" if result.created else "内容未变，沿用已有部署"
    print(f"{state} {result.content_hash[:12]}")
    for v in result.versions:
        print(f"  {v.process_id} v{v.version}  {v.name}")
    for name in result.documentation_only:
        print(f"  {name}（无可执行流程，仅作文档保存）")
    for warning in result.warnings:
        print(f"警告 {warning.describe()}", file=sys.stderr)
    return 0


def _accounts(engine: Engine) -> SqlAccounts:
    if not isinstance(engine.store, SqlStore):
        raise TypeError("the command line runs on the SQL store")
    return SqlAccounts(engine.store.engine)


def _verify(engine: Engine, instance: str | None) -> int:
    verdicts = engine.verify(instance)
    broken = [v for v in verdicts if not v.ok]
    for v in broken:
        print(v.describe())
    if not broken:
        print("ok" if instance else f"ok（{len(verdicts)} 条审计链）")
    return 1 if broken else 0


def _serve(engine: Engine, settings: Settings, host: str, port: int, demo: bool) -> int:
    from jiuzhu.api import create_app
    from jiuzhu.shutdown import serve

    if demo:
        code = _deploy(engine, settings, [str(settings.processes_dir)], "system")
        if code:
            return code
        from jiuzhu.demo_cases import seed_demo_cases

        print(f"演示案件：新建 {len(seed_demo_cases(engine))} 件", flush=True)
        print(demo_digest_key(engine, settings), flush=True)
    if settings.api_token is None:
        # Never an open API: machine clients get a token for this run.
        settings = Settings(**{**settings.__dict__, "api_token": secrets.token_urlsafe(18)})
    context = build_web_context(engine, settings)
    demo_users = load_demo_accounts(context, ROOT / "demo") if demo else []
    app = create_app(engine, settings, web_context=context)
    if demo:
        from jiuzhu.demo_clock import DemoClock
        from jiuzhu.web.pages_demo_clock import PATH, install_demo_clock

        assert isinstance(engine.clock, DemoClock)  # build_engine(demo_clock=True)
        install_demo_clock(app, engine.clock)
        print(f"演示时钟：管理员登录后打开 {PATH}", flush=True)
    stop = threading.Event()
    threading.Thread(
        target=run_scheduler, args=(engine,), kwargs={"interval": settings.timer_interval, "stop": stop}, daemon=True
    ).start()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"救助 Jiuzhu 已启动：http://{shown}:{port}/signin （登录）", flush=True)
    print(f"API 文档：http://{shown}:{port}/docs", flush=True)
    if demo_users:
        print(f"演示账号（密码均为 {demo_users[0][1]}）：", flush=True)
        print(demo_accounts_table(demo_users, context.directory()), flush=True)
    print(f"数据库：{settings.database_url}", flush=True)
    if settings.api_token:
        system = f"system:{settings.api_token_name}"
        print(f"系统 API 令牌（审计记为 {system}）：Authorization: Bearer {settings.api_token}", flush=True)
        print(f"个人 API 令牌：登录后在 http://{shown}:{port}/account/tokens 创建", flush=True)
    try:
        serve(app, host=host, port=port, grace=settings.shutdown_seconds, **UVICORN_PROXY_OPTIONS)
    finally:
        stop.set()
    return 0


def _db_upgrade(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        outcome = migrations.upgrade(engine)
    finally:
        engine.dispose()
    if outcome.how == "current":
        print(f"数据库结构已是最新版本（{outcome.after}），无需升级")
    elif outcome.how == "created":
        print(f"已建立数据库结构（版本 {outcome.after}）")
    else:
        print(f"数据库结构已升级：{outcome.before or '迁移前版本'} → {outcome.after}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jiuzhu", description="救助 Jiuzhu 社会救助流程编排平台")
    sub = parser.add_subparsers(dest="command", required=True)
    p_deploy = sub.add_parser("deploy", help="校验并部署 BPMN/DMN 与表单")
    p_deploy.add_argument("paths", nargs="+", help="文件或目录")
    p_deploy.add_argument("--actor", default=None, help=ACTOR_HELP)
    p_serve = sub.add_parser("serve", help="启动服务")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--demo", action="store_true", help="启动前部署 processes/ 下的全部流程")
    p_verify = sub.add_parser("verify", help="校验审计链；不给实例则校验全部")
    p_verify.add_argument("instance", nargs="?")
    replay_help = "并复算（重新执行）案件，比对每条事件；不给实例则复算全部已结束的案件"
    p_verify.add_argument("--replay", action="store_true", help=replay_help)
    cli_replay.add_arguments(p_verify)
    p_db = sub.add_parser("db", help="数据库结构（版本迁移）")
    db_sub = p_db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="把数据库结构升级到最新版本（serve 启动时也会自动执行）")
    sub.add_parser("worker", help="只运行定时器调度（可多进程，配合 REDIS_URL）", add_help=False)
    cli_calendar.add_parsers(sub)
    cli_partner.add_parsers(sub)
    cli_sessions.add_parsers(sub)
    cli_audit.add_parsers(sub)
    args, rest = parser.parse_known_args(argv)
    if args.command == "worker":
        from jiuzhu import worker

        return worker.main(rest)
    if rest:
        parser.error(f"无法识别的参数：{' '.join(rest)}")

    if args.command == "audit" and (code := cli_audit.offline(args)) is not None:
        return code
    settings = Settings.from_env()
    if args.command == "db":
        return _db_upgrade(settings)  # the only db subcommand
    demo = args.command == "serve" and args.demo
    engine = build_engine(settings, demo_clock=demo)
    try:
        if hasattr(args, "actor"):  # every command that changes something names who did it
            roles = {"deploy": DEPLOY_ROLES, "audit": cli_audit.ACTOR_ROLES}.get(args.command, ADMIN_ROLES)
            args.actor = actor_for(_accounts(engine), args.actor, roles)
        if args.command == "deploy":
            return _deploy(engine, settings, args.paths, args.actor)
        if args.command == "verify":
            code = _verify(engine, args.instance)
            return max(code, cli_replay.run(engine, args.instance, args.max_events)) if args.replay else code
        if args.command in ("calendar", "sla"):
            return cli_calendar.run(engine, args)
        if args.command == "session":
            return cli_sessions.run(engine, settings, args)
        if args.command == "audit":
            return cli_audit.run(engine, settings, args)
        if args.command in ("partner", "deliver"):
            redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
            return cli_partner.run(engine, args, redis, prefix=redis_prefix())
        return _serve(engine, settings, args.host, args.port, args.demo)
    except JiuzhuError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        engine.store.close()


if __name__ == "__main__":
    sys.exit(main())
