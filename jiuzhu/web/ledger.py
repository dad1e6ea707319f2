"""The 台账 (case ledger): one row per case with the columns offices keep,
and its .xlsx form (Chinese headers, frozen header row, widths, real dates).

Row building is pure; the page gathers records, data and clocks for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from engine.decisions import Decision
from engine.ports import InstanceRecord
from engine.runtime.task_facts import mask_id
from engine.sla import clocks as sla
from jiuzhu import timefmt
from jiuzhu.web.case_data import Household

STATUS_LABELS = {
    "running": "办理中",
    "incident": "故障待处理",
    "completed": "已办结",
    "failed": "异常结束",
    "terminated": "已终止",
}
# (header, attribute, width in characters, number format)
COLUMNS: tuple[tuple[str, str, int, str | None], ...] = (
    ("案件编号", "case_no", 18, None),
    ("申请人", "applicant", 10, None),
    ("身份证号(脱敏)", "id_masked", 21, None),
    ("家庭人口", "household_size", 9, "0"),
    ("救助类型", "assistance_type", 14, None),
    ("所属乡镇(街道)", "township", 14, None),
    ("所属村(社区)", "village", 14, None),
    ("受理日期", "accepted_on", 12, "yyyy-mm-dd"),
    ("当前环节", "stage", 22, None),
    ("办理时限", "due_on", 12, "yyyy-mm-dd"),
    ("剩余工作日", "days_left", 11, "0"),
    ("状态", "state", 14, None),
    ("决定", "outcome", 10, None),
    ("决定日期", "decided_on", 12, "yyyy-mm-dd"),
    ("决定机关", "decided_body", 22, None),
    ("救助金额(元)", "amount", 13, "#,##0.00"),
    ("证书/纪要编号", "certificate_no", 18, None),
    ("发放起始月", "payment_start", 11, None),
)


@dataclass(frozen=True)
class LedgerRow:
    instance_id: str
    process_id: str
    org_unit: str | None
    case_no: str
    applicant: str | None
    id_masked: str | None
    household_size: int | None
    assistance_type: str
    township: str | None
    village: str | None
    accepted_on: date | None  # 受理: when the overall limit started; None before
    stage: str
    due_on: date | None
    days_left: int | None
    state: str
    state_code: str
    outcome: str | None
    decided_on: date | None
    decided_body: str | None
    amount: float | None
    certificate_no: str | None
    payment_start: str | None


def ledger_row(
    record: InstanceRecord,
    household: Household,
    decided: Decision | None,
    decided_body: str | None,
    *,
    procedure: str,
    township: str | None,
    village: str | None,
    ready_names: Sequence[str],
    overall: sla.SlaClock | None,
    state_code: str | None,
    days_left: int | None,
) -> LedgerRow:
    """``state_code`` is the overall clock's state (engine.sla.clocks.state) or None without a clock;
    the decision columns come from ``decided`` (the engine's record), never from case data."""
    running = record.status in ("running", "incident")
    if running and state_code is not None:
        state = sla.STATE_LABELS.get(state_code, state_code)
    else:
        state = STATUS_LABELS.get(record.status, record.status)
    return LedgerRow(
        instance_id=record.id,
        process_id=record.process_id,
        org_unit=record.org_unit,
        case_no=record.business_key or record.id[:8],
        applicant=household.applicant.get("name"),
        id_masked=mask_id(household.applicant.get("id_number")),
        household_size=household.size,
        assistance_type=household.assistance_type or procedure,
        township=township,
        village=village,
        accepted_on=timefmt.day_of(overall.started_at) if overall else None,
        stage="、".join(ready_names) if running and ready_names else STATUS_LABELS.get(record.status, "—"),
        due_on=timefmt.deadline_day(overall.due_at) if overall else None,
        days_left=days_left if running else None,
        state=state,
        state_code=(state_code or record.status) if running else record.status,
        outcome=decided.outcome if decided else None,
        decided_on=timefmt.day_of(decided.decided_at) if decided else None,
        decided_body=decided_body if decided else None,
        amount=decided.amount if decided else None,
        certificate_no=decided.certificate_no if decided else None,
        payment_start=decided.payment_start if decided else None,
    )


# What an xlsx cell cannot hold (openpyxl raises on it): one such character in
# one applicant's name must not make the whole ledger fail.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# A text starting with one of these is a formula to Excel, WPS and LibreOffice (and openpyxl
# writes a string starting with "=" as one): a hostile name must stay text (formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_value(value: Any) -> Any:
    return _ILLEGAL.sub("", value) if isinstance(value, str) else value


def as_text(cell: Any) -> None:
    """Store a cell whose text a spreadsheet would read as a formula as plain text: string type,
    and the quote prefix, so that editing it in Excel keeps it text."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def ledger_xlsx(rows: Sequence[LedgerRow], *, title: str, generated: datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append([c[0] for c in COLUMNS])
    header_fill = PatternFill("solid", fgColor="F2E6E6")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in rows:
        values: list[Any] = [cell_value(getattr(row, attr)) for _, attr, _, _ in COLUMNS]
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            as_text(cell)
    for index, (_, _, width, number_format) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    book.properties.title = title
    book.properties.created = generated.replace(tzinfo=None)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
