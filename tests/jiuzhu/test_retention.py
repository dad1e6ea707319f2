"""档案保管期限: the policy file, when a case falls due, and ``jiuzhu audit retention`` over real 低保 cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.audit import GENESIS, seal
from engine.clock import SHANGHAI, FixedClock
from engine.errors import InvalidRequestError
from engine.events import EventDraft
from integrations.sql.store import SqlStore
from jiuzhu import cli
from jiuzhu.retention import RetentionPolicy, add_years, due_before, load_policy, retention
from jiuzhu.settings import ROOT
from tests.support import decided_cases as dc

POLICY = RetentionPolicy(case_years_after_end=5, recipient_years_after_exit=3)


def _events(*types: str, at: datetime = datetime(2026, 3, 2, 2, tzinfo=UTC)) -> list:
    return seal("c1", [EventDraft(t) for t in types], after_seq=0, prev_hash=GENESIS, at=at)


def test_the_shipped_policy_keeps_cases_five_years_and_recipients_three_after_exit() -> None:
    assert load_policy(ROOT / "demo" / "retention.json") == POLICY


def test_a_policy_below_five_years_or_unreadable_is_refused(tmp_path: Path) -> None:
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"case_years_after_end": 4, "recipient_years_after_exit": 3}), encoding="utf-8")
    with pytest.raises(InvalidRequestError) as caught:
        load_policy(short)
    assert caught.value.code == "RETENTION_POLICY" and "至少保存 5 年" in str(caught.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidRequestError):
        load_policy(broken)


def test_a_refused_case_falls_due_five_years_after_it_ends_and_a_running_one_never() -> None:
    ended = retention(POLICY, "c1", _events("instance_started", "instance_completed"), {}, "不予确认")
    assert ended.ended_on == date(2026, 3, 2) and ended.due_on == date(2031, 3, 2)
    running = retention(POLICY, "c2", _events("instance_started"), {}, None)
    assert running.due_on is None and running.reason == "案件未办结"


def test_a_recipient_falls_due_at_the_later_of_end_plus_five_and_exit_plus_three() -> None:
    events = _events("instance_started", "instance_completed")
    staying = retention(POLICY, "c1", events, {}, "纳入")
    assert staying.due_on is None and staying.reason == "救助对象尚未退出"
    early = retention(POLICY, "c1", events, {"exited_on": "2027-01-10"}, "纳入")
    assert early.due_on == date(2031, 3, 2)  # end + 5 years is later than exit + 3
    late = retention(POLICY, "c1", events, {"exited_on": "2030-06-01"}, "纳入")
    assert late.due_on == date(2033, 6, 1)
    assert due_before([staying, early, late], date(2032, 1, 1)) == [early]


def test_a_leap_day_moves_to_the_28th() -> None:
    assert add_years(date(2028, 2, 29), 5) == date(2033, 2, 28)


def test_the_report_lists_a_refused_case_falling_due_and_not_a_recipient_still_receiving(
    make_store: Callable[[], SqlStore],
    clock: FixedClock,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    approved = dc.decided(engine, clock, dc.APPROVE)
    refused = dc.decided(engine, clock, dc.REJECT)
    [deliver] = engine.get(refused).ready  # 送达不予确认通知书 ends the refused case
    delivered = {"notice_no": "QH-BYQR-2026-007", "delivered_on": "2026-11-20", "reasons_stated": True}
    engine.complete_task(refused, deliver.id, delivered, actor="jb_nanshan")
    monkeypatch.setenv("DATABASE_URL", db_url)
    [end] = [e.occurred_at for e in engine.events(refused) if e.type == "instance_completed"]
    due = add_years(end.astimezone(SHANGHAI).date(), 5)
    assert cli.main(["audit", "retention", "--before", due.isoformat()]) == 0
    out = capsys.readouterr().out
    assert refused not in out and "共 0 件" in out
    day_after = date.fromordinal(due.toordinal() + 1).isoformat()
    assert cli.main(["audit", "retention", "--before", day_after]) == 0
    out = capsys.readouterr().out
    assert refused in out and approved not in out and f"保管至 {due}" in out and "共 1 件" in out
    assert cli.main(["audit", "retention", "--before", "2031-13-01"]) == 2
