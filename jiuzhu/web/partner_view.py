"""What the partner inbox shows and reads: Chinese labels of the household
fields (from the 联办 catalogue), working days left against the item's
反馈期限, and the 反馈结果 form's fields turned into a report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.errors import FieldError
from engine.workcal.calendar import WorkCalendar

CATALOGUE = Path(__file__).resolve().parents[2] / "processes" / "yijianshi" / "catalogue.json"
# The bank account's parts, as the 补正 form names them.
ACCOUNT_LABELS = {"bank_name": "开户行", "card_number": "银行卡号", "account_holder": "户名"}
SOON = 1  # working days left at which an item is 即将到期
REPORT_FIELDS = ("granted", "benefit", "amount", "amount_unit", "effective_from", "reason")
SIGN_FORM = CATALOGUE.parents[2] / "forms" / "yijianshi" / "yijianshi-partner-sign-schema.json"


# The form fields' labels and the amount units, as the 签收 form's schema titles them (one source).
_SIGN: dict[str, Any] = json.loads(SIGN_FORM.read_text(encoding="utf-8"))
_REPORT = _SIGN["definitions"]["report"]["properties"]
FIELD_LABELS = {
    **{key: str(spec["title"]) for key, spec in _REPORT.items()},
    **{key: str(spec["title"]) for key, spec in _SIGN["properties"].items() if key != "report"},
    "": "表单",
}
UNITS = tuple(_REPORT["amount_unit"]["enum"])


@lru_cache(maxsize=1)
def _labels() -> tuple[dict[str, str], dict[str, str]]:
    raw = json.loads(CATALOGUE.read_text(encoding="utf-8")) if CATALOGUE.exists() else {}
    return dict(raw.get("household_fields", {})), dict(raw.get("member_fields", {}))


def field_label(key: str) -> str:
    """A household field's name as the catalogue gives it."""
    return _labels()[0].get(key, key)


@dataclass(frozen=True)
class Shown:
    """One household field as shown: its label, and a text or (for members) a table."""

    key: str
    label: str
    text: str = ""
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "；".join(f"{ACCOUNT_LABELS.get(k, k)} {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_text(v) for v in value)
    return "—" if value is None or value == "" else str(value)


def shown_fields(household: dict[str, Any]) -> list[Shown]:
    """Exactly the payload's fields, in the catalogue's order, labelled in Chinese."""
    fields, member_fields = _labels()
    order = [k for k in fields if k in household] + sorted(k for k in household if k not in fields)
    out = []
    for key in order:
        value = household[key]
        if key == "members" and isinstance(value, list):
            keys = [k for k in member_fields if any(isinstance(m, dict) and k in m for m in value)]
            rows = tuple(tuple(_text(m.get(k)) for k in keys) for m in value if isinstance(m, dict))
            out.append(Shown(key, fields.get(key, key), columns=tuple(member_fields[k] for k in keys), rows=rows))
        else:
            out.append(Shown(key, fields.get(key, key), _text(value)))
    return out


@dataclass(frozen=True)
class Deadline:
    """Working days left to the 反馈期限 (negative: overdue) and how to show it."""

    days: int | None
    text: str
    state: str  # on_time, warning, overdue, none (the inbox's state classes)


def deadline(calendar: WorkCalendar, today: date, due_on: date | None, *, region: str | None, open_: bool) -> Deadline:
    if due_on is None or not open_:
        return Deadline(None, "—", "none")
    days = calendar.working_days_between(today, due_on, region=region)
    if days < 0:
        return Deadline(days, f"已逾期 {-days} 个工作日", "overdue")
    if days == 0:
        return Deadline(days, "今日到期（即将到期）", "warning")
    if days <= SOON:
        return Deadline(days, f"{days} 个工作日（即将到期）", "warning")
    return Deadline(days, f"{days} 个工作日", "on_time")


def parse_report(form: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The 反馈结果 form as a report; what cannot even be read is an error here,
    the rest the task's form schema checks (in the step)."""
    values = {k: form.get(k, "").strip() for k in REPORT_FIELDS}
    errors: list[FieldError] = []
    report: dict[str, Any] = {}
    if values["granted"] not in ("yes", "no"):
        errors.append(FieldError("report/granted", "FORM_REQUIRED", "请选择是否享受"))
        return report, errors
    report["granted"] = values["granted"] == "yes"
    if not report["granted"]:
        if values["reason"]:
            report["reason"] = values["reason"]
        return report, errors
    for key in ("benefit", "amount_unit", "effective_from"):
        if values[key]:
            report[key] = values[key]
    if values["amount"]:
        try:
            report["amount"] = float(values["amount"])
        except ValueError:
            errors.append(FieldError("report/amount", "FORM_NUMBER", "请输入数字金额，如 10 或 12.5"))
    return report, errors


def errors_by_field(errors: list[FieldError]) -> dict[str, str]:
    """Field errors keyed by the form field they belong to (``report/benefit`` → ``benefit``)."""
    out: dict[str, str] = {}
    for e in errors:
        key = e.path.split("/")[-1] if e.path else ""
        out.setdefault(key, e.message)
    return out
