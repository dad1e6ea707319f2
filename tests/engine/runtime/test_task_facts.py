"""Applicant, partner and deadline facts for the inbox; ID masking."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from engine.clock import SHANGHAI
from engine.runtime.task_facts import TaskFacts, applicant, facts_for, mask_id, partner_of
from engine.sla import clocks as sla
from engine.sla.policy import Limit, SlaPolicy
from engine.workcal.calendar import PeriodKind, WorkCalendar

CAL = WorkCalendar()
THURSDAY = datetime(2026, 9, 24, 10, 0, tzinfo=SHANGHAI)
OVERALL = Limit("overall", "总时限", 30, PeriodKind.WORKING_DAYS, warn_before=5)
CORRECTION = Limit("awaiting_correction", "等待补正材料", 30, PeriodKind.NATURAL_DAYS)
POLICY = SlaPolicy("p", "1", "dibao", "t", "s", ("dibao",), ("CN",), OVERALL, {CORRECTION.key: CORRECTION})


def _clock(key: str, limit: Limit) -> sla.SlaClock:
    return sla.start_clock(
        instance_id="i", key=key, limit=limit, policy=POLICY, region="CN-XJ", now=THURSDAY, calendar=CAL
    )


def test_applicant_is_found_where_procedures_keep_it() -> None:
    assert applicant({"applicant": {"name": "张三", "id_number": "330102199001011234"}}) == (
        "张三",
        "330102199001011234",
    )
    assert applicant({"applicant_name": "李四", "applicant_id_number": "11010519491231002X"}) == (
        "李四",
        "11010519491231002X",
    )
    assert applicant({"household": {"applicant_name": "王五"}}) == ("王五", None)
    # 临时救助 急难型 keeps the person the emergency befell as ``person``
    assert applicant({"person": {"name": "孙丽", "id_number": "13993119791010024X"}}) == ("孙丽", "13993119791010024X")
    assert applicant({"applicant": "not an object", "other": 1}) == (None, None)


def test_partner_of_a_handoff() -> None:
    assert partner_of({"handoff": {"item": {"partner": "供电公司"}}}) == "供电公司"
    assert partner_of({"handoff": None}) is None


def test_the_row_carries_the_unit_of_the_clock_its_deadline_comes_from() -> None:
    overall, stage = _clock("overall", OVERALL), _clock("task:t-1", CORRECTION)

    def facts(task_id: str, *clocks: sla.SlaClock) -> TaskFacts:
        return facts_for(task_id, {}, {}, org_unit="u", business_key=None, clocks=clocks)

    own = facts("t-1", overall, stage)  # the task's own 补正 clock: 30 natural days
    assert (own.stage, own.due_at, own.due_unit) == ("等待补正材料", stage.due_at, "natural_days")
    assert own.due_region == "CN-XJ"  # the working days of a limit there skip that region's holidays
    other = facts("t-2", overall, stage)  # no clock of its own: the case's overall limit, in working days
    assert (other.stage, other.due_at, other.due_unit) == ("总时限", overall.due_at, "working_days")
    closed = facts("t-1", overall, replace(stage, closed_at=THURSDAY))  # its own clock closed: the overall's
    assert (closed.due_at, closed.due_unit) == (overall.due_at, "working_days")
    none = facts("t-1")  # no limit at all
    assert (none.due_at, none.due_unit, none.due_region) == (None, "working_days", None)


def test_mask_keeps_four_and_four() -> None:
    assert mask_id("330102199001011234") == "3301**********1234"
    assert mask_id("1234567") == "*******"
    assert mask_id(None) is None
