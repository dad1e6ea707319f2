"""Household and documents from case data; ledger rows (decision columns from the engine's
Decision) and the workbook (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from io import BytesIO

from openpyxl import load_workbook

from engine.decisions import Decision
from engine.ports import InstanceRecord
from engine.sla.clocks import SlaClock, end_of_day
from jiuzhu.web.case_data import documents, household, id_numbers, masked
from jiuzhu.web.ledger import COLUMNS, ledger_row, ledger_xlsx

RECORD = InstanceRecord(
    "0123456789abcdef", "dibao", 1, "completed", "", 3,
    datetime(2026, 11, 2, 17, 0, tzinfo=UTC), datetime(2026, 11, 20, 2, 0, tzinfo=UTC), business_key=None,
)  # fmt: skip


OVERALL = SlaClock(
    instance_id=RECORD.id, key="overall", stage="overall", name="审核确认总时限", policy_id="dibao.national@2021-57",
    region="CN", started_at=datetime(2026, 11, 3, 17, 0, tzinfo=UTC), limit=30, unit="working_days",
    roll_to_working_day=True, warn_before=5, escalate_to=(), due_on=date(2026, 12, 15),
    due_at=end_of_day(date(2026, 12, 15)), warn_at=None, provisional=False, calendar_version="",
)  # fmt: skip


def test_household_is_found_under_a_task_variable_and_masked_on_request() -> None:
    data = {
        "application": {
            "applicant": {"name": "刘一", "id_number": "330102199001011234"},
            "members": [{"name": "刘一", "id_number": "330102199001011234"}, {"name": "王芳", "counted": False}],
        },
        "assistance_type": "低边",
    }
    h = household(data)
    assert h.applicant["name"] == "刘一" and h.size == 1 and h.assistance_type == "低边"
    assert masked(h).members[0]["id_number"] == "3301**********1234" and id_numbers(h) == ["330102199001011234"]
    assert household({"applicant_name": "陈二", "household_size": 4}).applicant == {"name": "陈二"}
    assert household({"applicant_name": "陈二", "household_size": 4}).size == 4


def test_documents_are_every_attachment_reference() -> None:
    data = {"id": {"sha256": "a" * 64, "name": "身份证.jpg", "mime": "image/jpeg", "size": 10},
            "more": [{"sha256": "b" * 64, "name": "证明.pdf"}], "note": "x"}  # fmt: skip
    found = documents(data)
    assert [(d.field, d.name, d.size) for d in found] == [("id", "身份证.jpg", 10), ("more[1]", "证明.pdf", None)]


GRANTED = Decision(
    "dibao", "纳入", datetime(2026, 11, 20, 2, 0, tzinfo=UTC), "mz_county", "县级民政局", "county",
    "db_county_confirm", "县级审核确认", amount=912.5, certificate_no="QH-DB-0031", payment_start="2026-12",
)  # fmt: skip


def test_ledger_row_and_workbook() -> None:
    h = household({"applicant": {"name": "刘一", "id_number": "330102199001011234"}, "household_size": 3})
    row = ledger_row(
        RECORD, h, GRANTED, "清河县民政局", procedure="低保审核确认", township="东城街道",
        village=None, ready_names=[], overall=None, state_code=None, days_left=None,
    )  # fmt: skip
    assert row.case_no == "01234567" and row.state == "已办结" and row.stage == "已办结"
    assert row.accepted_on is None  # no overall clock: never accepted (受理)
    accepted = ledger_row(
        RECORD, h, GRANTED, "清河县民政局", procedure="低保审核确认", township=None, village=None, ready_names=[],
        overall=OVERALL, state_code="closed_on_time", days_left=None,
    )  # fmt: skip
    # 受理 is when the overall limit started (01:00 in Beijing the next day), not the record's creation;
    # the deadline is the Beijing day it runs out, not the UTC date of its midnight.
    assert accepted.accepted_on is not None and accepted.accepted_on.isoformat() == "2026-11-04"
    assert accepted.due_on is not None and accepted.due_on.isoformat() == "2026-12-15"
    assert row.decided_on is not None and row.decided_on.isoformat() == "2026-11-20"
    assert (row.outcome, row.decided_body, row.certificate_no, row.payment_start) == (
        "纳入",
        "清河县民政局",
        "QH-DB-0031",
        "2026-12",
    )
    running = ledger_row(
        replace(RECORD, status="running"), h, None, None, procedure="低保审核确认", township=None, village=None,
        ready_names=["初审", "公示"], overall=None, state_code="warning", days_left=2,
    )  # fmt: skip
    assert running.stage == "初审、公示" and running.state == "预警" and running.days_left == 2
    body = ledger_xlsx([row, running], title="台账", generated=datetime(2026, 11, 21, tzinfo=UTC))
    sheet = load_workbook(BytesIO(body)).active
    assert [c.value for c in sheet[1]] == [c[0] for c in COLUMNS]
    header = [c[0] for c in COLUMNS]
    amount = sheet.cell(2, header.index("救助金额(元)") + 1)
    assert sheet["H2"].number_format == "yyyy-mm-dd" and amount.value == 912.5
    assert sheet.cell(3, header.index("决定") + 1).value is None  # undecided: empty, not guessed
    assert sheet["K3"].value == 2 and sheet.freeze_panes == "A2"
