"""SLA clocks through the persisted engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import SHANGHAI, FixedClock
from engine.errors import DeploymentRefused, InvalidRequestError
from engine.service.facade import ClockStatus, Engine
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES

SKELETON = PROCESSES / "sla_skeleton"
POLICIES = PROCESSES / "sla"
MONDAY_0921 = datetime(2026, 9, 21, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def engine(make_engine_for: Callable[..., Engine], clock: FixedClock) -> Engine:
    clock.set(MONDAY_0921)
    engine = make_engine_for()
    deploy_paths(engine, [POLICIES, SKELETON], FORMS, actor="designer")
    return engine


def task(engine: Engine, iid: str, element: str) -> str:
    return next(t.id for t in engine.get(iid).ready if t.element_id == element)


def clock_of(engine: Engine, iid: str, stage: str) -> ClockStatus:
    return next(s for s in engine.sla_status(iid) if s.clock.stage == stage and s.clock.open)


def types(engine: Engine, iid: str) -> list[str]:
    return [e.type for e in engine.events(iid)]


def test_warning_and_breach_happen_at_the_policy_moments(engine: Engine, clock: FixedClock) -> None:
    iid = engine.start("sla_skeleton", {}, actor="jb", region="CN-GS", org_unit="town-1").record.id
    engine.complete_task(iid, task(engine, iid, "accept_review"), {"materials_complete": True}, actor="jb")
    status = clock_of(engine, iid, "start_investigation")
    assert (
        status.clock.due_on == date(2026, 9, 24)
        and status.days_left == 3
        and status.unit == "working_days"
        and status.state == "on_time"
    )
    warn_at = datetime(2026, 9, 24, 0, 0, tzinfo=SHANGHAI)
    clock.set(warn_at - timedelta(seconds=1))
    engine.fire_due_timers()
    assert "sla_warning" not in types(engine, iid)
    clock.set(warn_at)
    engine.fire_due_timers()
    assert types(engine, iid).count("sla_warning") == 1
    assert clock_of(engine, iid, "start_investigation").state == "warning"
    clock.set(datetime(2026, 9, 25, 0, 0, tzinfo=SHANGHAI) - timedelta(seconds=1))
    engine.fire_due_timers()
    assert "sla_overdue" not in types(engine, iid)
    clock.advance(timedelta(seconds=1))
    engine.fire_due_timers()
    engine.fire_due_timers()
    assert types(engine, iid).count("sla_overdue") == 1
    assert clock_of(engine, iid, "start_investigation").state == "overdue"
    [overdue_alert] = engine.overdue_alerts()
    assert (overdue_alert["role"], overdue_alert["org_unit"], overdue_alert["stage"]) == (
        "乡镇审核人",
        "town-1",
        "start_investigation",
    )
    assert all(v.ok for v in engine.verify())


def test_awaiting_correction_pauses_the_overall_limit(engine: Engine, clock: FixedClock) -> None:
    iid = engine.start("sla_skeleton", {}, actor="jb", region="CN-GS").record.id
    assert clock_of(engine, iid, "overall").clock.due_on == date(2026, 11, 9)
    engine.complete_task(iid, task(engine, iid, "accept_review"), {"materials_complete": False}, actor="jb")
    assert clock_of(engine, iid, "overall").state == "paused"
    clock.set(datetime(2026, 9, 24, 10, 0, tzinfo=SHANGHAI))  # 3 working days later
    engine.complete_task(iid, task(engine, iid, "awaiting_correction"), {}, actor="jb")
    overall = clock_of(engine, iid, "overall")
    assert overall.state == "on_time" and overall.clock.paused_days == 3
    assert overall.clock.due_on == date(2026, 11, 12)
    assert {"sla_paused", "sla_resumed"} <= set(types(engine, iid))


def test_extension_needs_the_policy_approver_and_happens_once(engine: Engine) -> None:
    iid = engine.start("sla_skeleton", {}, actor="jb", region="CN-GS").record.id
    with pytest.raises(InvalidRequestError) as wrong:
        engine.extend_sla(iid, reason="人户分离", approver="张", approver_role="乡镇经办人", actor="x")
    assert wrong.value.code == "SLA_EXTENSION_APPROVER"
    engine.extend_sla(iid, reason="人户分离，需异地核查", approver="王局长", approver_role="县级民政局", actor="wang")
    overall = clock_of(engine, iid, "overall")
    assert overall.clock.limit == 45 and overall.state == "extended" and overall.clock.due_on == date(2026, 11, 30)
    extended = next(e for e in engine.events(iid) if e.type == "sla_extended")
    assert extended.actor == "wang" and extended.payload["reason"] == "人户分离，需异地核查"
    with pytest.raises(InvalidRequestError):
        engine.extend_sla(iid, reason="again", approver="王局长", approver_role="县级民政局", actor="wang")


def test_zhejiang_publicity_does_not_count_in_the_overall_limit(engine: Engine, clock: FixedClock) -> None:
    iid = engine.start("sla_skeleton", {}, actor="jb", region="CN-ZJ-HZ").record.id
    assert engine.get(iid).record.policy.startswith("dibao.zhejiang@")  # type: ignore[union-attr]
    engine.complete_task(iid, task(engine, iid, "accept_review"), {"materials_complete": True}, actor="jb")
    engine.complete_task(iid, task(engine, iid, "start_investigation"), {}, actor="jb")
    engine.complete_task(iid, task(engine, iid, "township_review"), {}, actor="jb")
    assert clock_of(engine, iid, "overall").state == "paused"
    publicity = clock_of(engine, iid, "publicity")
    assert publicity.clock.due_on == date(2026, 9, 28)  # 7 natural days after Monday 21st
    clock.set(datetime(2026, 9, 29, 0, 0, tzinfo=SHANGHAI))
    engine.fire_due_timers()
    assert task(engine, iid, "county_confirmation")
    overall = clock_of(engine, iid, "overall")
    assert overall.state == "on_time" and overall.clock.paused_days > 0


def test_provisional_deadline_is_recomputed_and_audited(engine: Engine, clock: FixedClock, tmp_path: Path) -> None:
    clock.set(datetime(2026, 12, 15, 9, 0, tzinfo=SHANGHAI))
    iid = engine.start("sla_skeleton", {}, actor="jb", region="CN-GS").record.id
    before = clock_of(engine, iid, "overall")
    assert before.clock.provisional and before.state == "provisional"
    schedule = {
        "year": 2027,
        "version": "测试用虚构安排",
        "effective_from": "2026-12-01",
        "holidays": [{"name": "虚构春节", "dates": [f"2027-01-{d:02d}" for d in range(18, 23)]}],
        "workdays": [],
        "region": None,
    }
    import json

    _, recomputed = engine.load_calendar(json.dumps(schedule, ensure_ascii=False), source="2027.json", actor="admin")
    assert recomputed == 1
    after = clock_of(engine, iid, "overall")
    assert not after.clock.provisional and after.clock.due_on > before.clock.due_on
    event = next(e for e in engine.events(iid) if e.type == "deadline_recomputed")
    assert event.payload["old_due_on"] == before.clock.due_on.isoformat()
    assert event.payload["new_due_on"] == after.clock.due_on.isoformat()
    assert event.payload["calendar_version"] != event.payload["old_calendar_version"]
    system = [v for v in engine.verify() if v.chain_id == "_system"][0]
    assert system.ok


def test_unknown_stage_is_refused_at_deploy(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "sla_skeleton.bpmn"
    text = (SKELETON / "sla_skeleton.bpmn").read_text(encoding="utf-8")
    bad.write_text(text.replace('value="township_review"', 'value="home_visit"'), encoding="utf-8")
    with pytest.raises(DeploymentRefused) as info:
        deploy_paths(engine, [bad], FORMS, actor="designer")
    assert {(p.code, p.location.element_id) for p in info.value.errors} == {("SLA_STAGE_UNKNOWN", "township_review")}


def test_a_policy_missing_a_used_stage_is_refused(engine: Engine, tmp_path: Path) -> None:
    import json

    data = json.loads((POLICIES / "dibao.national.sla.json").read_text(encoding="utf-8"))
    data["version"] = "broken"
    del data["stages"]["publicity"]
    path = tmp_path / "broken.sla.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DeploymentRefused) as info:
        deploy_paths(engine, [path], FORMS, actor="designer")
    assert {p.location.element_id for p in info.value.errors} == {"publicity"}


def test_compliance_report(engine: Engine, clock: FixedClock) -> None:
    first = engine.start("sla_skeleton", {}, actor="jb", region="CN-GS", org_unit="town-1").record.id
    engine.complete_task(first, task(engine, first, "accept_review"), {"materials_complete": True}, actor="jb")
    engine.complete_task(first, task(engine, first, "start_investigation"), {}, actor="jb")  # on time
    second = engine.start("sla_skeleton", {}, actor="jb", region="CN-GS", org_unit="town-1").record.id
    engine.complete_task(second, task(engine, second, "accept_review"), {"materials_complete": True}, actor="jb")
    clock.set(datetime(2026, 9, 28, 10, 0, tzinfo=SHANGHAI))
    engine.complete_task(second, task(engine, second, "start_investigation"), {}, actor="jb")  # late
    rows = engine.sla_report(MONDAY_0921 - timedelta(days=1), clock.now() + timedelta(days=1), org_unit="town-1")
    row = next(r for r in rows if r["stage"] == "start_investigation")
    assert (row["closed"], row["on_time"], row["late"], row["on_time_rate"]) == (2, 1, 1, 0.5)


def test_process_without_policy_has_no_clocks(make_engine_for: Callable[..., Engine]) -> None:
    engine = make_engine_for()
    deploy_paths(engine, [PROCESSES / "sample"], FORMS, actor="designer")
    iid = engine.start("material_review", {}, actor="a").record.id
    assert engine.sla_status(iid) == []
