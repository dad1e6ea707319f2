"""A case rebuilt at any event from its audit chain (engine/history.py), checked
against the engine itself on a real 低保 case: after every step the rebuilt data
and ready tasks are the engine's own; the 公示 holds the token after 初审; SLA
clocks, claims, 回退 and a tampered body as the chain recorded them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.audit import AuditEvent
from engine.clock import SHANGHAI, FixedClock
from engine.history import Change, case_at, diff, step_end
from engine.service.facade import Engine
from integrations.sql import SqlStore
from jiuzhu.demo_cases import (
    ACCEPT,
    CHECK_INTAKE,
    INITIAL_REVIEW,
    START_INVESTIGATION,
    application,
    home_visit,
    load_households,
)
from tests.conftest import START
from tests.support import decided_cases as dc


@pytest.fixture
def dibao(tmp_path: Path) -> tuple[Engine, FixedClock]:
    # The reconstruction is pure: one backend is enough (the pages' tests run both).
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'history.db'}")
    store.create_schema()
    clock = FixedClock(START)
    return dc.dibao_engine(store, clock), clock


def _as_engine_has_it(engine: Engine, iid: str) -> None:
    events = engine.events(iid)
    at = case_at(events, events[-1].seq)
    view = engine.get(iid)
    assert at.data == view.data
    assert sorted((t.task_id, t.element_id, t.name) for t in at.ready) == sorted(
        (t.id, t.element_id, t.name) for t in view.ready
    )
    assert at.status == view.record.status
    assert step_end(events, events[-1].seq) == events[-1].seq


def test_after_every_step_the_rebuilt_case_is_the_engines_own(dibao: tuple[Engine, FixedClock]) -> None:
    engine, clock = dibao
    iid = dc.start(engine)
    _as_engine_has_it(engine, iid)
    today = clock.now().astimezone(SHANGHAI).date().isoformat()
    steps = [
        ("db_apply", application(load_households()[dc.FAMILY], today), "申请人"),
        ("db_accept", ACCEPT, "jb_nanshan"),
        ("db_start_investigation", START_INVESTIGATION, "jb_nanshan"),
        ("db_check_intake", CHECK_INTAKE, "hd_center"),
        ("db_home_visit", home_visit(today), "jb_nanshan"),
        ("db_initial_review", INITIAL_REVIEW, "sh_nanshan"),
    ]
    for element, form, actor in steps:
        dc.do(engine, iid, element, form, actor)
        _as_engine_has_it(engine, iid)

    events = engine.events(iid)
    review = next(e.seq for e in events if e.type == "task_completed" and e.element_id == "db_initial_review")
    right_after = case_at(events, review)
    assert right_after.changes == (Change("$.initial_opinion", "added", None, INITIAL_REVIEW["initial_opinion"]),)
    assert right_after.tokens == ()  # the 公示 timer arms later in the same step
    end = step_end(events, review)
    assert end == events[-1].seq
    stood = case_at(events, end)
    assert stood.tokens == ("db_publicity",) and stood.ready == ()
    assert [w.element_id for w in stood.waiting] == ["db_publicity"]
    assert stood.data["members"][1]["name"] == "周秀兰" and stood.data["monthly_amount"] == 1100
    assert stood.path[:3] == ("db_start", "db_apply", "db_accept")
    assert stood.path.index("db_check") < stood.path.index("db_join") < stood.path.index("db_initial_review")
    clocks = {c.stage: c for c in stood.clocks}
    assert clocks["publicity"].state == "on_time" and clocks["publicity"].due_on == "2026-11-09"
    assert clocks["publicity"].unit == "natural_days" and clocks["publicity"].open
    assert clocks["initial_review"].state == "closed_on_time"
    assert clocks["overall"].open and clocks["overall"].limit == 30

    # The 核对 centre's result: recorded on the connector's event, applied as the case's data.
    check = next(e for e in events if e.type == "connector_called" and e.element_id == "db_check")
    assert "hedui_report" in check.payload["data_diff"]["added"]
    assert case_at(events, check.seq - 1).data.get("hedui_report") is None
    assert case_at(events, check.seq).data["hedui_report"]["eligible"] is True

    clock.advance(timedelta(days=12))
    engine.fire_due_timers()
    _as_engine_has_it(engine, iid)
    dc.do(engine, iid, "db_publicity_result", {"objection": False}, "jb_nanshan")
    _as_engine_has_it(engine, iid)
    [confirm] = engine.get(iid).ready
    engine.assign_task(confirm.id, "mz_county", actor="mz_county")
    events = engine.events(iid)
    held = case_at(events, events[-1].seq)
    assert [(t.name, t.assignee) for t in held.ready] == [("县级审核确认", "mz_county")]
    dc.do(engine, iid, confirm.element_id, dc.APPROVE, "mz_county")
    _as_engine_has_it(engine, iid)
    done = case_at(engine.events(iid), len(engine.events(iid)))
    assert done.status == "completed" and done.tokens == () and all(not c.open for c in done.clocks)


def test_a_send_back_records_the_data_it_takes_back(dibao: tuple[Engine, FixedClock]) -> None:
    engine, clock = dibao
    iid = dc.start(engine)
    today = clock.now().astimezone(SHANGHAI).date().isoformat()
    dc.do(engine, iid, "db_apply", application(load_households()[dc.FAMILY], today), "申请人")
    [accept] = engine.get(iid).ready
    engine.send_back(iid, accept.id, reason="材料需重填", actor="jb_nanshan")
    events = engine.events(iid)
    sent = next(e for e in events if e.type == "task_sent_back")
    assert "members" in sent.payload["data_diff"]["removed"]
    _as_engine_has_it(engine, iid)
    assert "members" not in case_at(events, sent.seq).data


def _event(seq: int, kind: str, payload_body: str, actor: str | None = None) -> AuditEvent:
    body = '{"payload":' + payload_body + "}"
    at = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    return AuditEvent("c", seq, kind, at, actor, None, None, body, "h")


def test_a_body_that_no_longer_parses_is_named_not_fatal() -> None:
    events = [
        _event(1, "instance_started", '{"data": {"a": 1}}', "x"),
        _event(2, "script_run", '{"data_diff": {"added": {"b": 2}, "changed": {}, "removed": []}}'),
        dataclasses.replace(_event(3, "script_run", "{"), body='{"payload":{'),
    ]
    at = case_at(events, 3)
    assert at.unreadable == (3,) and at.data == {"a": 1, "b": 2}
    with pytest.raises(IndexError):
        case_at(events, 4)


def test_the_diff_names_every_leaf_by_its_json_path() -> None:
    before = {"a": {"b": [1, 2]}, "gone": True, "odd key": 1, "same": {"x": 1}}
    after = {"a": {"b": [1, 3, 4]}, "new": None, "odd key": 2, "same": {"x": 1}}
    assert diff(before, after) == [
        Change("$.a.b[1]", "changed", 2, 3),
        Change("$.a.b[2]", "added", None, 4),
        Change("$.gone", "removed", True, None),
        Change("$.new", "added", None, None),
        Change('$["odd key"]', "changed", 1, 2),
    ]
    assert diff({"n": 1}, {"n": 1.0}) == [Change("$.n", "changed", 1, 1.0)]


def test_a_failed_submission_and_its_fix_are_the_cases_once_the_task_is_done() -> None:
    diff_of = '{"data_diff": {"added": {"amount": 5}, "changed": {}, "removed": []}}'
    events = [
        _event(1, "instance_started", '{"data": {"a": 1}}', "x"),
        dataclasses.replace(_event(2, "task_ready", '{"name": "核定", "lane": "乡镇"}'), task_id="t1"),
        dataclasses.replace(_event(3, "task_submission_failed", diff_of, "x"), task_id="t1"),
        dataclasses.replace(_event(4, "incident_raised", '{"code": "SCRIPT_FAILED"}'), task_id="t1"),
        _event(5, "incident_retried", '{"data_patch": {"fixed": true}}', "admin"),
        dataclasses.replace(_event(6, "task_ready", '{"name": "核定", "lane": "乡镇"}'), task_id="t1"),
        dataclasses.replace(_event(7, "task_completed", '{"data_diff": {"added": {}}}', "x"), task_id="t1"),
    ]
    assert case_at(events, 3).data == {"a": 1} and case_at(events, 3).ready == ()
    assert case_at(events, 5).data == {"a": 1} and case_at(events, 5).status == "incident"
    assert [t.name for t in case_at(events, 6).ready] == ["核定"]
    done = case_at(events, 7)
    assert done.data == {"a": 1, "amount": 5, "fixed": True}
    assert {c.path for c in done.changes} == {"$.amount", "$.fixed"}
