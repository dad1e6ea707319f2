"""Deterministic re-execution (engine/replay.py) of a finished real 低保 case, on
SQLite and PostgreSQL: the record re-runs to 复算一致; a connector response
rewritten by an insider (hashes recomputed, so the chain itself verifies) or a
holiday slipped into the calendar in force after the fact makes the replay
name the first event that differs, field by field."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import insert

from engine.clock import FixedClock
from engine.replay import DEFAULT_MAX_EVENTS, Replayer, ReplayTooLong
from engine.replay_compare import MISMATCH, ReplayResult
from engine.service.facade import Engine
from integrations.sql.replay_inputs import CaseReader
from integrations.sql.sla import CAL
from integrations.sql.store import SqlStore
from tests.support import decided_cases as dc
from tests.support.insider import rewrite_chain


@pytest.fixture
def case(make_store: Callable[[], SqlStore], clock: FixedClock) -> tuple[Engine, str]:
    engine = dc.dibao_engine(make_store(), clock)
    return engine, dc.decided(engine, clock, dc.APPROVE)


def replay(engine: Engine, iid: str, max_events: int = DEFAULT_MAX_EVENTS) -> ReplayResult:
    assert isinstance(engine.store, SqlStore)
    return Replayer(engine.sandbox, max_events=max_events).replay(CaseReader(engine.store).case(iid))


def test_a_finished_dibao_case_replays_to_the_same_record(case: tuple[Engine, str]) -> None:
    engine, iid = case
    result = replay(engine, iid)
    events = engine.events(iid)
    assert engine.get(iid).record.status == "completed"
    assert result.consistent, result.describe()
    assert result.events == len(events)
    assert "复算一致" in result.describe()


def test_a_rewritten_connector_response_is_named_where_it_shows(case: tuple[Engine, str]) -> None:
    engine, iid = case
    called = next(e for e in engine.events(iid) if e.type == "connector_called" and e.payload["operator"] == "hedui")
    response = dict(called.payload["response"])
    response["tampered"] = "多出的一辆车"
    assert isinstance(engine.store, SqlStore)
    rewrite_chain(engine.store.engine, iid, called.seq, {"response": response})
    assert all(v.ok for v in engine.verify(iid))  # the insider kept the chain's own links intact
    result = replay(engine, iid)
    difference = result.first_difference
    assert difference is not None and difference.code == MISMATCH
    # The recorded answer is fed back as recorded; the first place the record disagrees is the call's own
    # record of what it changed in the data (its data_diff), which the insider left as it was.
    assert (difference.seq, difference.kind) == (called.seq, "connector_called"), difference.describe()
    assert difference.field.startswith("payload.data_diff"), difference.describe()
    assert "多出的一辆车" in str(difference.replayed) and "多出的一辆车" not in str(difference.recorded)
    assert f"第 {difference.seq} 条事件（connector_called）复算不一致" in difference.describe()


HOLIDAY = {"year": 2026, "version": "事后加入的假日", "region": None, "workdays": [], "effective_from": "2025-12-01",
           "holidays": [{"name": "加塞的假日", "dates": ["2026-11-04"]}]}  # fmt: skip


def test_a_holiday_added_after_the_fact_to_the_calendar_in_force_is_named(case: tuple[Engine, str]) -> None:
    engine, iid = case
    started = engine.events(iid)[0]
    assert isinstance(engine.store, SqlStore)
    with engine.store.engine.begin() as conn:  # backdated: as if it had been in force when the case ran
        conn.execute(
            insert(CAL).values(year=2026, region=None, version="事后加入的假日", actor="insider", source="x.json",
                               body=json.dumps(HOLIDAY, ensure_ascii=False),
                               loaded_at=started.occurred_at - timedelta(days=1))
        )  # fmt: skip
    difference = replay(engine, iid).first_difference
    assert difference is not None
    assert (difference.seq, difference.kind, difference.field) == (1, "instance_started", "payload.calendar_version")
    assert difference.recorded == started.payload["calendar_version"] != difference.replayed


def test_a_calendar_loaded_lawfully_later_leaves_older_cases_consistent(
    case: tuple[Engine, str], clock: FixedClock
) -> None:
    engine, iid = case
    clock.advance(timedelta(hours=1))  # the case had ended; a year's schedule is published
    engine.load_calendar(json.dumps(HOLIDAY, ensure_ascii=False), source="later.json", actor="admin")
    assert replay(engine, iid).consistent


def test_a_case_longer_than_the_cap_is_refused_up_front(case: tuple[Engine, str]) -> None:
    engine, iid = case
    with pytest.raises(ReplayTooLong) as refused:
        replay(engine, iid, max_events=10)
    assert refused.value.code == "REPLAY_TOO_LONG" and "超过复算上限 10 条" in refused.value.message
