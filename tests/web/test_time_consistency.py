"""One real 低保 case, one date per deadline: every page and answer that shows it agrees.

A deadline "by the end of D" is stored as 00:00 Beijing of D+1 (engine/sla/clocks.py
``end_of_day``). Formatting that moment as a plain date says D+1; the case page
and the API say D. This walks every place the case's deadlines appear.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from io import BytesIO

from openpyxl import load_workbook

from engine.clock import SHANGHAI, FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import ACCEPT, application, load_households, load_org_units, opening
from tests.support.page_text import cell
from tests.support.start_world import real_world
from tests.support.web_support import WebWorld

HANDLER = "jb_dongcheng"  # 乡镇(街道)经办人 of 东城街道, where 杨柳社区 belongs


def _accepted_case(world: WebWorld, clock: FixedClock) -> str:
    """刘桂芳 applies on Monday 2026-03-02, is accepted (受理) on Wednesday 03-04."""
    household = load_households()["刘桂芳"]
    unit = load_org_units()[household["org_unit"]]
    engine = world.engine
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    iid = engine.start(
        "dibao", opening(household), actor="system", org_unit=unit["code"], region=unit["region"]
    ).record.id
    apply = engine.get(iid).ready[0]
    engine.complete_task(iid, apply.id, application(household, "2026-03-02"), actor="申请人")
    clock.set(datetime(2026, 3, 4, 10, 30, tzinfo=SHANGHAI))
    accept = engine.get(iid).ready[0]
    engine.complete_task(iid, accept.id, dict(ACCEPT), actor=HANDLER)
    return iid


def test_every_page_and_answer_shows_a_deadline_on_the_same_beijing_day(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    iid = _accepted_case(world, clock)
    statuses = {s.clock.stage: s.clock for s in world.engine.sla_status(iid)}
    stage, overall = statuses["start_investigation"], statuses["overall"]
    # 3 working days after Wednesday 03-04 is Monday 03-09; it runs out at 24:00 Beijing,
    # stored as Tuesday 00:00 — the moment whose plain date is the wrong answer.
    assert stage.due_at.astimezone(SHANGHAI).time() == time(0)
    expected = stage.due_at.astimezone(SHANGHAI).date() - timedelta(days=1)
    assert expected.isoformat() == "2026-03-09"
    # 30 working days counted from 受理 (03-04), not from the application (03-02).
    assert overall.started_at == datetime(2026, 3, 4, 10, 30, tzinfo=SHANGHAI)
    overall_day = (overall.due_at.astimezone(SHANGHAI) - timedelta(days=1)).date().isoformat()
    assert overall_day == "2026-04-16"

    client = world.signed_in(HANDLER)
    task = world.engine.get(iid).ready[0]
    assert task.element_id == "db_start_investigation"

    inbox = client.get("/inbox")
    assert inbox.status_code == 200, inbox.text
    row = inbox.text[inbox.text.index(f"/tasks/{task.id}") :]
    assert cell(row, "inbox-due") == "2026-03-09"

    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 200, page.text
    assert cell(page.text, "task-due") == "2026-03-09"

    case = client.get(f"/cases/{iid}").text
    assert cell(case, "sla-due-start_investigation") == "2026-03-09"
    assert cell(case, "sla-due-overall") == overall_day
    assert cell(case, "overall-due") == overall_day
    assert cell(case, "accepted-at") == "2026-03-04 10:30"  # 受理, not the 03-02 application
    # And the days left to it, counted alike on both (3 working days: the clock stands at 受理).
    assert cell(row, "inbox-left") == cell(case, "sla-left-start_investigation") == "3个工作日"

    answer = client.get(f"/api/instances/{iid}/sla")
    assert answer.status_code == 200, answer.text
    by_stage = {c["stage"]: c for c in answer.json()}
    assert by_stage["start_investigation"]["due_on"] == "2026-03-09"
    assert by_stage["overall"]["due_on"] == overall_day

    ledger = client.get("/cases/ledger.xlsx")
    assert ledger.status_code == 200
    sheet = load_workbook(BytesIO(ledger.content)).active
    header = [c.value for c in sheet[1]]
    [line] = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[header.index("申请人")] == "刘桂芳"]
    assert line[header.index("办理时限")].date().isoformat() == overall_day
    assert line[header.index("受理日期")].date().isoformat() == "2026-03-04"


def test_a_case_not_yet_accepted_has_no_acceptance_date_and_no_overall_clock(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    world = real_world(make_store, clock, db_url)
    household = load_households()["刘桂芳"]
    unit = load_org_units()[household["org_unit"]]
    iid = world.engine.start(
        "dibao", opening(household), actor="system", org_unit=unit["code"], region=unit["region"]
    ).record.id
    apply = world.engine.get(iid).ready[0]
    world.engine.complete_task(iid, apply.id, application(household, "2026-11-02"), actor="申请人")
    assert [s.clock.key for s in world.engine.sla_status(iid)] == []
    case = world.signed_in(HANDLER).get(f"/cases/{iid}").text
    assert cell(case, "accepted-at") == "未受理"
    assert 'data-testid="overall-due"' not in case
