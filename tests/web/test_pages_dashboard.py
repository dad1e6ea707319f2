"""The dashboard on real 低保 cases: 办结 is a decided case, on time when decided
within the overall limit; overdue open cases by stage and org unit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

from engine.clock import FixedClock
from integrations.sql.store import SqlStore
from tests.support import decided_cases as dc


def test_dashboard_counts_decided_cases_not_finished_stage_clocks(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    approved = dc.decided(engine, clock, dc.APPROVE)
    rejected = dc.start(engine, region="CN-FJ-350100", family="刘桂芳")
    dc.do(engine, rejected, dc.to_confirmation(engine, clock, rejected, "刘桂芳"), dc.REJECT, "sh_nanshan")
    in_publicity = dc.start(engine, family="王德顺")  # many stage clocks closed, nothing decided
    dc.to_confirmation(engine, clock, in_publicity, "王德顺")
    client = world.signed_in("mz_county")
    html = client.get("/dashboard").text
    # Open (undecided): the case at 审核确认 and the 一件事联办 the approval started; the
    # rejected case, still delivering its notice, is decided.
    assert re.search(r'data-testid="closed">2<', html) and re.search(r'data-testid="open">2<', html)
    assert re.search(r'data-testid="rate">100.0%<', html)
    chart = json.loads(re.search(r"data-chart='([^']+)'", html).group(1).replace("&#34;", '"'))  # type: ignore[union-attr]
    assert chart["closed"] == [2] and chart["rates"] == [100.0] and chart["orgs"] == ["石桥村"]
    assert "纳入 1、不予确认 1" in html and "没有超期的在办案件" in html
    # The open case runs past its 30 working days: overdue, at 县级审核确认, in 石桥村.
    clock.advance(timedelta(days=45))
    engine.fire_due_timers()
    html = client.get("/dashboard").text
    groups = html.split('data-testid="overdue-groups"')[1].split("</section>")[0]
    assert "县级审核确认" in groups and "石桥村" in groups and '<td class="num">1</td>' in groups
    assert in_publicity in html.split('data-testid="overdue"')[1].split("</section>")[0]
    assert approved not in groups and rejected not in groups
    # A period before any decision has none.
    assert "统计期间内没有作出决定的案件" in client.get("/dashboard?since=2025-01-01&until=2025-12-31").text
