"""督办 of late 联办 items, on SQLite and PostgreSQL: one row per role the
policy names, raised once whether a lone step or a batched timer firing
crosses the deadline, carrying the partner department, resolved when the
task is done, listed per caller (a partner's supervisor sees only their own
department's), and surviving an old database's unique key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from engine.clock import SHANGHAI, FixedClock
from engine.service import firing
from engine.service.facade import Engine
from integrations.sql import SqlStore
from jiuzhu.overdue_alerts import department_overdue_alerts, group, overdue_alerts_for
from jiuzhu.web.auth import Viewer
from tests.support.partner_world import Case, deployed
from tests.support.web_support import make_world

TARGETS = ["联办部门负责人", "乡镇审核人", "县级民政局"]
SIGN, RESULT = "ho_sign", "ho_result"
PUSHED = datetime(2026, 9, 29, 9, 0, tzinfo=SHANGHAI)  # 星期二; 国庆 10月1日—7日, 10月10日（星期六）上班
ITEM_DUE = date(2026, 10, 12)  # 电费减免: 5 个工作日 from the push


def _case(engine: Engine, clock: FixedClock, items: list[str] | None = None) -> Case:
    clock.set(PUSHED)
    case = Case(deployed(engine), clock)
    case.start(items or ["dianfei", "youxian"])
    return case


def _sign_all(case: Case) -> None:
    for task in case.ready(SIGN):
        case.engine.complete_task(case.instance_id, task.id, {"partner_action": "签收"}, actor="partner")


def _result_clock(case: Case, partner: str) -> Any:
    [status] = [
        s
        for s in case.engine.sla_status(case.instance_id)
        if s.clock.stage == "partner_result" and s.clock.partner == partner and s.clock.open
    ]
    return status.clock


def _rows(engine: Engine, **filters: Any) -> list[tuple[str | None, str | None, str]]:
    return sorted((s["role"], s["partner"], s["stage"]) for s in engine.overdue_alerts(**filters))


def test_the_item_clock_follows_the_items_own_limit_across_guoqing(
    make_engine_for: Callable[..., Engine], clock: FixedClock
) -> None:
    case = _case(make_engine_for(), clock)
    _sign_all(case)
    power = _result_clock(case, "供电公司")
    assert (power.due_on, power.due_from, power.limit) == (ITEM_DUE, "handoff.due_on", 5)
    # Warned 2 working days before: 10月9日 (Fri) is 2 before 10月12日 with 10月10日 (Sat) working.
    assert power.warn_at == datetime(2026, 10, 10, 0, 0, tzinfo=SHANGHAI)
    cable = _result_clock(case, "广电网络公司")
    assert cable.due_on == case.engine.calendar().add_working_days(PUSHED.date(), 5).date  # its catalogue limit


def test_overdue_raises_one_row_per_target_once_through_a_lone_step(
    make_engine_for: Callable[..., Engine], clock: FixedClock
) -> None:
    case = _case(make_engine_for(), clock, ["dianfei"])
    _sign_all(case)
    due_at = _result_clock(case, "供电公司").due_at
    clock.set(due_at - timedelta(seconds=1))
    case.engine.wake(case.instance_id)
    assert case.engine.overdue_alerts() == []
    clock.set(due_at)
    case.engine.wake(case.instance_id)
    case.engine.wake(case.instance_id)
    clock.advance(timedelta(days=3))
    case.engine.wake(case.instance_id)
    assert _rows(case.engine) == sorted((t, "供电公司", "partner_result") for t in TARGETS)
    [overdue] = case.events("sla_overdue")
    assert overdue["escalate_to"] == TARGETS and overdue["partner"] == "供电公司"
    assert all(v.ok for v in case.engine.verify())


def test_overdue_raises_one_row_per_target_once_through_batched_firing(
    make_engine_for: Callable[..., Engine], clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[Any] = []
    original = firing.fire_batch

    def spy(core: Any, ids: Any, now: datetime) -> Any:
        outcome = original(core, ids, now)
        batches.append(outcome)
        return outcome

    monkeypatch.setattr(firing, "fire_batch", spy)
    engine = make_engine_for()
    cases = [_case(engine, clock, ["dianfei"]) for _ in range(3)]
    for case in cases:
        _sign_all(case)
    clock.set(datetime.combine(ITEM_DUE + timedelta(days=1), datetime.min.time(), SHANGHAI))
    engine.fire_due_timers()
    engine.fire_due_timers()
    assert sum(b.fired for b in batches) == 3 and not any(b.alone for b in batches)
    for case in cases:
        rows = engine.overdue_alerts(instance_id=case.instance_id)
        assert sorted(r["role"] for r in rows) == sorted(TARGETS)
        assert {(r["org_unit"], r["partner"], r["due_on"]) for r in rows} == {
            ("qinghe.dongcheng", "供电公司", ITEM_DUE.isoformat())
        }


def test_done_late_resolves_the_rows_and_a_resend_starts_a_fresh_item_clock(
    make_engine_for: Callable[..., Engine], clock: FixedClock
) -> None:
    case = _case(make_engine_for(), clock, ["dianfei"])
    [sign] = case.ready(SIGN)
    first_due = date(2026, 10, 8)  # 签收 2 个工作日
    clock.set(datetime.combine(first_due + timedelta(days=1), datetime.min.time(), SHANGHAI))
    case.engine.fire_due_timers()
    assert _rows(case.engine) == sorted((t, "供电公司", "partner_sign") for t in TARGETS)
    # Returned late, corrected and pushed again on 10月9日: the old 督办 ends, the item's days start over.
    clock.set(datetime(2026, 10, 9, 9, 0, tzinfo=SHANGHAI))
    returned = {"partner_action": "退回民政", "return_reason": "电力户号与户主姓名不符"}
    case.engine.complete_task(case.instance_id, sign.id, returned, actor="供电公司")
    assert case.engine.overdue_alerts() == []
    resolved = case.engine.overdue_alerts(open_only=False)
    assert len(resolved) == 3 and {r["resolved_at"] for r in resolved} == {clock.now().isoformat()}
    [correct] = case.ready("ho_correct")
    fix = {"corrected_fields": {"electricity_account": "3301061234"}, "correction_note": "已更正"}
    case.engine.complete_task(case.instance_id, correct.id, fix, actor="jb_dongcheng")
    _sign_all(case)
    again = _result_clock(case, "供电公司")
    assert again.due_on == case.engine.calendar().add_working_days(date(2026, 10, 9), 5).date == date(2026, 10, 15)
    clock.set(again.due_at)
    case.engine.fire_due_timers()
    open_rows = case.engine.overdue_alerts()
    assert sorted(r["role"] for r in open_rows) == sorted(TARGETS)
    assert {r["task_id"] for r in open_rows} == {again.task_id}


def _viewer(roles: tuple[str, ...], lanes: tuple[str, ...], scope: tuple[str, ...] | None, dept: str | None) -> Viewer:
    return Viewer("u", "u", roles, "x", "x", scope, lanes, dept)


def test_each_caller_sees_their_own_overdue_alerts(make_engine_for: Callable[..., Engine], clock: FixedClock) -> None:
    engine = make_engine_for()
    case = _case(engine, clock, ["dianfei", "youxian"])
    clock.set(datetime.combine(date(2026, 10, 9), datetime.min.time(), SHANGHAI))  # both unsigned, overdue
    engine.fire_due_timers()
    assert len(engine.overdue_alerts()) == 6
    power_head = _viewer(("partner_supervisor",), ("联办部门负责人",), (), "供电公司")
    assert _pairs(overdue_alerts_for(engine, power_head)) == [("联办部门负责人", "供电公司")]
    cable_head = _viewer(("partner_supervisor",), ("联办部门负责人",), (), "广电网络公司")
    assert _pairs(overdue_alerts_for(engine, cable_head)) == [("联办部门负责人", "广电网络公司")]
    liaison = _viewer(("partner",), ("联办部门",), (), "供电公司")
    assert overdue_alerts_for(engine, liaison) == []
    township = _viewer(("township_reviewer",), ("乡镇审核人",), ("qinghe.dongcheng",), None)
    assert len(overdue_alerts_for(engine, township)) == 6
    assert len(overdue_alerts_for(engine, township, role="乡镇审核人")) == 2
    other = _viewer(("township_reviewer",), ("乡镇审核人",), ("qinghe.xiwan",), None)
    assert overdue_alerts_for(engine, other) == []
    [entry] = department_overdue_alerts(engine, "供电公司")
    assert entry["to"] == TARGETS and entry["instance_id"] == case.instance_id and entry["partner"] == "供电公司"
    assert entry["task_id"] in {t.id for t in case.ready(SIGN)}


def _pairs(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["role"], r["partner"]) for r in rows]


def test_the_api_lists_overdue_alerts_by_department_and_scope(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url)
    case = _case(world.engine, clock, ["dianfei", "youxian"])
    clock.set(datetime.combine(date(2026, 10, 9), datetime.min.time(), SHANGHAI))
    world.engine.fire_due_timers()

    def listed(username: str) -> list[tuple[str, str]]:
        r = world.signed_in(username).get("/api/supervisions")
        assert r.status_code == 200, r.text
        return sorted((s["role"], s["partner"]) for s in r.json())

    assert listed("lbfz_power") == [("联办部门负责人", "供电公司")]
    assert listed("lbfz_cable") == [("联办部门负责人", "广电网络公司")]
    assert listed("lbfz_ybj") == []
    assert len(listed("sh_dongcheng")) == len(listed("mz_county")) == 6
    assert listed("sh_xiwan") == []
    assert world.signed_in("lb_power").get("/api/supervisions").status_code == 403
    page = world.signed_in("sh_dongcheng").get(f"/cases/{case.instance_id}")
    assert page.status_code == 200, page.text
    told = "督办 联办部门负责人、乡镇审核人、县级民政局（联办部门：供电公司）"
    assert page.text.count(told) == 2 and page.text.count("未解除") >= 2  # the 督办 list and the timeline


def test_grouping_names_every_target_in_the_policys_order() -> None:
    row = {"instance_id": "i", "clock": "task:t", "task_id": "t", "due_on": "2026-10-12", "partner": "供电公司"}
    rows = [{**row, "role": r} for r in reversed(TARGETS)]  # newest first, as listed
    assert [g["to"] for g in group(rows)] == [TARGETS]


def test_an_old_database_gets_the_unique_key_with_the_role(db_url: str) -> None:
    """A supervision table made before 督办 went to several roles."""
    store = SqlStore.from_url(db_url)
    serial = "SERIAL" if store.engine.dialect.name == "postgresql" else "INTEGER"
    with store.engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE supervision (id {serial} PRIMARY KEY, instance_id VARCHAR(36) NOT NULL, "
                "clock_key VARCHAR(48) NOT NULL, stage VARCHAR NOT NULL, name VARCHAR NOT NULL, role VARCHAR, "
                "org_unit VARCHAR, due_on VARCHAR NOT NULL, raised_at TIMESTAMP NOT NULL, resolved_at TIMESTAMP, "
                "UNIQUE (instance_id, clock_key, due_on))"
            )
        )
        conn.execute(
            text(
                "INSERT INTO supervision (instance_id, clock_key, stage, name, role, org_unit, due_on, raised_at) "
                "VALUES ('i', 'task:t', 'partner_sign', '联办部门签收', '县级民政局', 'qinghe.dongcheng', "
                "'2026-10-08', '2026-10-08 16:00:00')"
            )
        )
    store.create_schema()
    store.create_schema()  # a second start changes nothing
    from engine.sla.tracker import OverdueAlert

    moment = datetime(2026, 10, 8, 16, 0, tzinfo=SHANGHAI)
    more = [
        OverdueAlert("i", "task:t", "partner_sign", "联办部门签收", r, "2026-10-08", moment, "供电公司")
        for r in TARGETS[:2]
    ]
    with store.unit() as unit:
        unit.add_overdue_alerts("qinghe.dongcheng", more)
    with store.reader() as unit:
        rows = unit.overdue_alerts()
    assert sorted((r["role"], r["partner"]) for r in rows) == [
        ("乡镇审核人", "供电公司"),
        ("县级民政局", None),
        ("联办部门负责人", "供电公司"),
    ]
    with pytest.raises(Exception, match="(?i)unique"), store.unit() as unit:
        unit.add_overdue_alerts("qinghe.dongcheng", more[:1])
    store.close()
