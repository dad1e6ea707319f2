"""``jiuzhu calendar …`` and ``jiuzhu sla …``: operators' commands."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from engine.clock import SHANGHAI
from engine.errors import InvalidRequestError
from engine.service.facade import Engine
from engine.workcal.view import schedule_for_year
from jiuzhu.cli_actor import ACTOR_HELP


def add_parsers(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser("calendar", help="工作日日历").add_subparsers(dest="calendar_command", required=True)
    add = cal.add_parser("add-workdays", help="打印 DATE 之后第 N 个工作日（起始日不计）")
    add.add_argument("date", help="YYYY-MM-DD")
    add.add_argument("n", type=int)
    add.add_argument("--region", default=None, help="行政区划代码，计入地方节假日")
    load = cal.add_parser("load", help="载入某年国务院节假日安排（JSON，格式见 README）")
    load.add_argument("file")
    load.add_argument("--actor", default=None, help=ACTOR_HELP)
    show = cal.add_parser("show", help="显示某年的节假日与调休安排")
    show.add_argument("year", type=int)
    show.add_argument("--region", default=None)

    sla = sub.add_parser("sla", help="办理时限").add_subparsers(dest="sla_command", required=True)
    report = sla.add_parser("report", help="按流程、单位、环节统计按时办结率")
    report.add_argument("--since", required=True, help="YYYY-MM-DD（含）")
    report.add_argument("--until", required=True, help="YYYY-MM-DD（含）")
    report.add_argument("--process", default=None)
    report.add_argument("--org-unit", default=None)


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError(f"{name}: 日期格式应为 YYYY-MM-DD，收到 {text!r}", code="ARGUMENT_INVALID") from None


def run(engine: Engine, args: argparse.Namespace) -> int:
    if args.command == "sla":
        since = datetime.combine(_date(args.since, "--since"), time(0), SHANGHAI)
        until = datetime.combine(_date(args.until, "--until") + timedelta(days=1), time(0), SHANGHAI)
        rows = engine.sla_report(since, until, process_id=args.process, org_unit=args.org_unit)
        print(f"{'流程':<24}{'单位':<16}{'环节':<24}{'办结':>6}{'按时':>6}{'超期':>6}{'按时率':>9}")
        for r in rows:
            print(
                f"{r['process_id']:<24}{r['org_unit'] or '-':<16}{r['stage']:<24}"
                f"{r['closed']:>6}{r['on_time']:>6}{r['late']:>6}{r['on_time_rate']:>9.1%}"
            )
        return 0
    if args.calendar_command == "add-workdays":
        result = engine.calendar().add_working_days(_date(args.date, "DATE"), args.n, region=args.region)
        print(result.date.isoformat() + (" provisional" if result.provisional else ""))
        return 0
    if args.calendar_command == "load":
        path = Path(args.file)
        schedule, recomputed = engine.load_calendar(
            path.read_text(encoding="utf-8"), source=path.name, actor=args.actor
        )
        where = f"（{schedule.region}）" if schedule.region else ""
        print(f"已载入 {schedule.year} 年节假日安排{where}：{schedule.version}")
        print(f"重新计算了 {recomputed} 个实例的暂定期限")
        return 0
    view = schedule_for_year(engine.calendar(), args.year, region=args.region)
    print(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
    return 0
