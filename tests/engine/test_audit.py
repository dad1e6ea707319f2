"""The audit chain: complete, append-only, and tamper-evident down to a byte."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from engine.audit import GENESIS, seal, verify_chain
from engine.clock import FixedClock
from engine.events import EventDraft
from engine.service.facade import Engine
from jiuzhu import cli
from tests.conftest import SAMPLE, START, deploy

APPLICATION = {"applicant_name": "王五", "household_size": 1}


def run_sample(engine: Engine, clock: FixedClock) -> str:
    iid = engine.start("material_review", {"case_no": "A-1"}, actor="村协理员").record.id

    def task(element: str) -> str:
        return next(t.id for t in engine.get(iid).ready if t.element_id == element)

    engine.complete_task(iid, task("submit_application"), APPLICATION, actor="村协理员")
    clock.advance(timedelta(days=3))
    engine.fire_due_timers()
    engine.complete_task(iid, task("review_materials"), {"materials_complete": True}, actor="经办人")
    engine.complete_task(iid, task("approve"), {"approved": True, "monthly_amount": 500}, actor="审核人")
    return iid


def test_chain_links_and_genesis() -> None:
    drafts = [EventDraft("a", {"x": 1}), EventDraft("b", {"y": "中文"}, actor="甲")]
    events = seal("c1", drafts, after_seq=0, prev_hash=GENESIS, at=START)
    assert [e.seq for e in events] == [1, 2]
    assert events[0].prev_hash == GENESIS and events[1].prev_hash == events[0].hash
    assert verify_chain("c1", events, head_count=2, head_hash=events[1].hash).ok
    assert not verify_chain("c1", events[:1], head_count=2, head_hash=events[1].hash).ok


def test_sample_log_contains_every_task_timer_and_gateway(sample_engine: Engine, clock: FixedClock) -> None:
    iid = run_sample(sample_engine, clock)
    events = sample_engine.events(iid)
    completed = [e for e in events if e.type == "task_completed"]
    assert [(e.element_id, e.actor) for e in completed] == [
        ("submit_application", "村协理员"),
        ("review_materials", "经办人"),
        ("approve", "审核人"),
    ]
    assert completed[0].payload["form_data"] == APPLICATION
    assert completed[0].payload["data_diff"]["added"]["applicant_name"] == "王五"
    assert [e.element_id for e in events if e.type == "timer_armed"] == ["timer_remind"]
    assert [e.element_id for e in events if e.type == "timer_fired"] == ["timer_remind"]
    assert [e.payload["taken"] for e in events if e.type == "gateway_decided"] == [["approve"]]
    assert events[0].type == "instance_started" and events[-1].type == "instance_completed"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def _verify_cli(
    db_url: str, instance: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = cli.main(["verify", instance])
    return code, capsys.readouterr().out


def test_any_changed_byte_is_named_by_jiuzhu_verify(
    sample_engine: Engine,
    clock: FixedClock,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    iid = run_sample(sample_engine, clock)
    assert _verify_cli(db_url, iid, monkeypatch, capsys) == (0, "ok\n")
    engine = sample_engine.store.engine  # type: ignore[attr-defined]
    rows = []
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, seq, body FROM audit_event WHERE chain_id = :c ORDER BY seq"), {"c": iid}
        ).all()
    for row in rows:
        for position in (0, len(row.body) // 2, len(row.body) - 1):
            original = row.body[position]
            changed = row.body[:position] + ("X" if original != "X" else "Y") + row.body[position + 1 :]
            with engine.begin() as conn:
                conn.execute(text("UPDATE audit_event SET body = :b WHERE id = :i"), {"b": changed, "i": row.id})
            code, out = _verify_cli(db_url, iid, monkeypatch, capsys)
            assert code == 1 and f"第 {row.seq} 条事件" in out, (row.seq, position, out)
            with engine.begin() as conn:
                conn.execute(text("UPDATE audit_event SET body = :b WHERE id = :i"), {"b": row.body, "i": row.id})
    assert _verify_cli(db_url, iid, monkeypatch, capsys)[0] == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [("type", "'task_cancelled'"), ("actor", "'冒名者'"), ("hash", "'" + "f" * 64 + "'"), ("element_id", "'x'")],
)
def test_changed_columns_are_caught(sample_engine: Engine, clock: FixedClock, column: str, value: str) -> None:
    iid = run_sample(sample_engine, clock)
    engine = sample_engine.store.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_event SET {column} = {value} WHERE chain_id = :c AND seq = 4"), {"c": iid})
    [verdict] = sample_engine.verify(iid)
    assert not verdict.ok and verdict.broken_seq == 4


def test_changed_timestamp_and_deleted_tail_are_caught(sample_engine: Engine, clock: FixedClock) -> None:
    iid = run_sample(sample_engine, clock)
    engine = sample_engine.store.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_event SET occurred_at = :t WHERE chain_id = :c AND seq = 2"),
            {"t": datetime(2020, 1, 1), "c": iid},
        )
    assert sample_engine.verify(iid)[0].broken_seq == 2
    run_two = run_sample(sample_engine, clock)
    with engine.begin() as conn:
        last = conn.execute(text("SELECT max(seq) FROM audit_event WHERE chain_id = :c"), {"c": run_two}).scalar()
        conn.execute(text("DELETE FROM audit_event WHERE chain_id = :c AND seq = :s"), {"c": run_two, "s": last})
    verdict = sample_engine.verify(run_two)[0]
    assert not verdict.ok and verdict.broken_seq == last


def test_deployments_are_audited_on_the_system_chain(make_engine_for: Callable[..., Engine]) -> None:
    engine = make_engine_for()
    deploy(engine, SAMPLE)
    verdicts = {v.chain_id: v for v in engine.verify()}
    assert verdicts["_system"].ok and verdicts["_system"].events == 1


def test_a_deleted_instance_row_is_reported(sample_engine: Engine, clock: FixedClock) -> None:
    iid = run_sample(sample_engine, clock)
    engine = sample_engine.store.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM instance WHERE id = :i"), {"i": iid})
    verdict = next(v for v in sample_engine.verify() if v.chain_id == iid)
    assert not verdict.ok and "删除" in (verdict.reason or "")
