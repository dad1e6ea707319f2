"""The DB-API statements of the step hot path write exactly what the
SQLAlchemy Core queries of the rest of the store read, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from engine.audit import GENESIS, seal
from engine.events import EventDraft
from engine.ports import InstanceRecord, TaskRow, TimerRow
from engine.runtime.task_facts import TaskFacts
from integrations.sql import SqlStore
from tests.conftest import START

AT = START + timedelta(microseconds=123456)


def _record(iid: str = "i-1") -> InstanceRecord:
    return InstanceRecord(
        iid, "material_review", 1, "running", '{"state":"一"}', 0, AT, AT, started_by="张三",
        incident={"code": "X", "message": "故障"}, head_hash=GENESIS, business_key="B-1", org_unit="qinghe",
        region="CN", policy="p@1#d",
    )  # fmt: skip


def test_instances_read_back_the_same_through_core_and_hot_path(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    record = _record()
    with store.unit() as unit:
        unit.add_instance(record)
    with store.reader() as unit:
        assert unit.get_instance(record.id) == record
        assert unit.list_instances(process_id=None, status=None, limit=10) == [record]
        assert unit.get_instance("missing") is None
    moved = replace(record, status="incident", revision=1, updated_at=AT + timedelta(days=1), incident=None)
    with store.unit() as unit:
        assert not unit.update_instance(moved, expected_revision=5)
        assert unit.update_instance(moved, expected_revision=0)
    with store.reader() as unit:
        assert unit.get_instance(record.id) == moved
        assert unit.list_instances(process_id=None, status="incident", limit=10) == [moved]


def test_timer_due_times_compare_to_the_microsecond_with_core_queries(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    with store.unit() as unit:
        unit.add_instance(_record())
        unit.replace_timers("i-1", [TimerRow("i-1", "t-1", "timer_remind", AT)])
    with store.reader() as unit:
        assert unit.due_instances(AT - timedelta(microseconds=1), 10) == []
        assert unit.due_instances(AT, 10) == ["i-1"]
        assert unit.next_due() == AT
        assert unit.wakeups() == [("i-1", AT)]
    with store.unit() as unit:
        unit.replace_timers("i-1", [])
    with store.reader() as unit:
        assert unit.due_instances(AT + timedelta(days=9), 10) == []


def test_ready_tasks_added_and_removed(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    rows = [TaskRow(f"t-{n}", "i-1", "material_review", "review", "审查材料", "经办人", AT) for n in range(3)]
    with store.unit() as unit:
        unit.update_ready_tasks("i-1", added=rows, removed=[])
    with store.unit() as unit:
        unit.update_ready_tasks("i-1", added=[], removed=["t-0", "t-2"])
    with store.reader() as unit:
        assert unit.ready_tasks("i-1") == [rows[1]]


def test_ready_task_facts_round_trip_with_their_deadline_unit(make_store: Callable[[], SqlStore]) -> None:
    natural = TaskFacts(
        org_unit="qinghe", stage="等待补正材料", due_at=AT, warn_at=AT, due_unit="natural_days", due_region="CN-XJ"
    )
    row = TaskRow("t-1", "i-1", "dibao", "db_correction", "补正材料", "协理员", AT, natural)
    store = make_store()
    with store.unit() as unit:
        unit.update_ready_tasks("i-1", added=[row], removed=[])
    with store.reader() as unit:  # the hot path's read and the Core read agree
        assert unit.get_ready_task("t-1") == row and unit.ready_tasks("i-1") == [row]
    with store.unit() as unit:
        unit.refresh_task_facts({"t-1": replace(natural, due_unit="working_days")})
    with store.reader() as unit:
        assert unit.get_ready_task("t-1").facts.due_unit == "working_days"  # type: ignore[union-attr]


def test_audit_events_round_trip_and_a_duplicate_is_a_sqlalchemy_error(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    events = seal("i-1", [EventDraft("task_completed", {"数据": [1, 2]}, "t-1", "review", "张三")] * 2,
                  after_seq=0, prev_hash=GENESIS, at=AT)  # fmt: skip
    with store.unit() as unit:
        unit.append_events(events)
    with store.reader() as unit:
        assert list(unit.events("i-1")) == events
    with pytest.raises(IntegrityError), store.unit() as unit:
        unit.append_events(events[:1])
    with store.reader() as unit:  # the failed transaction left nothing behind
        assert list(unit.events("i-1")) == events
