"""The SLA dashboard: on-time rate in scope, overdue and due-soon lists, chart data."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

from engine.clock import FixedClock
from engine.service.facade import Engine
from jiuzhu.web.pages_dashboard import rate_rows
from tests.support.web_support import make_world


def test_dashboard_rates_and_lists_follow_scope_and_clock(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url)
    done = world.start("qinghe.dongcheng.yangliu", name="按时户", key="DB-1")
    world.engine.complete_task(done, world.task_of(done), {"materials_complete": True}, actor="jb_dongcheng")
    world.engine.complete_task(done, world.task_of(done), {}, actor="jb_dongcheng")  # 启动调查 on time
    late = world.start("qinghe.dongcheng.hepan", name="超期户", key="DB-2")
    world.start("qinghe.xiwan.shangzhuang", name="邻镇户", key="DB-3")
    client = world.signed_in("jb_dongcheng")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "100.0%" in page.text and "杨柳社区" in page.text and "邻镇户" not in page.text
    chart = json.loads(re.search(r"data-chart='([^']+)'", page.text).group(1).replace("&#34;", '"'))  # type: ignore[union-attr]
    assert chart["rates"] == [100.0] and chart["closed"] == [1]
    assert "没有超期案件" in page.text
    clock.advance(timedelta(days=45))  # past the 30 working days of the overall limit
    html = client.get("/dashboard").text
    overdue = html.split('data-testid="overdue"')[1].split("</section>")[0]
    assert "超期户" in overdue and "按时户" in overdue and "邻镇户" not in overdue
    assert late in overdue
    # A period before anything closed has no rate.
    assert "统计期间内没有计时结束的环节" in client.get("/dashboard?since=2025-01-01&until=2025-12-31").text


def test_rate_rows_fold_stages_when_no_case_closed() -> None:
    report = [
        {"process_id": "p", "org_unit": "a", "stage": "s1", "closed": 3, "on_time": 2},
        {"process_id": "p", "org_unit": "a", "stage": "s2", "closed": 1, "on_time": 1},
        {"process_id": "p", "org_unit": "b", "stage": "overall", "closed": 4, "on_time": 1},
        {"process_id": "p", "org_unit": "b", "stage": "s1", "closed": 9, "on_time": 9},
    ]
    rows = rate_rows(report, str.upper, lambda p: "流程" + p)
    assert [(r["org"], r["closed"], r["rate"]) for r in rows] == [("A", 4, 75.0), ("B", 4, 25.0)]
