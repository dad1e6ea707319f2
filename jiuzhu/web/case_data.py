"""What a case's data says about the household, its documents and the decision.

Procedures keep the household form (forms/common/household-schema.json) at
the top level or under the variable of the task that collected it; the
decision fields below are the names the 审核确认 forms use. Pure: instance
data in, plain values out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.runtime.task_facts import mask_id

APPLICANT_FIELDS = (
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("ethnicity", "民族"),
    ("mobile", "手机号"),
    ("registered_address", "户籍地址"),
    ("residence_address", "现居住地址"),
)
MEMBER_FIELDS = (
    ("name", "姓名"),
    ("relationship", "与申请人关系"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "身份证号"),
    ("health", "健康状况"),
    ("work_ability", "劳动能力"),
    ("employment", "就业状况"),
    ("counted", "计入家庭人口"),
)
# 审核确认 outcome, in the order procedures name it.
APPROVED_KEYS = ("approved", "confirmed")
AMOUNT_KEYS = ("monthly_amount", "amount", "guarantee_amount")
START_KEYS = ("start_month", "payment_start_month")
CERTIFICATE_KEYS = ("certificate_no", "dibao_certificate_no")
REASON_KEYS = ("rejection_reasons", "reasons", "rejection_reason")
DECIDED_KEYS = ("decision_date", "decided_on", "confirm_date")


@dataclass(frozen=True)
class Document:
    field: str
    name: str
    mime: str | None
    size: int | None
    sha256: str


@dataclass(frozen=True)
class Decision:
    approved: bool | None = None
    amount: float | None = None
    start_month: str | None = None
    certificate_no: str | None = None
    reasons: tuple[str, ...] = ()
    decided_on: str | None = None


@dataclass(frozen=True)
class Household:
    applicant: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    size: int | None = None
    assistance_type: str | None = None


def _holders(data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The data itself, then every object one level down (a task's variable)."""
    yield data
    for value in data.values():
        if isinstance(value, Mapping):
            yield value


def find(data: Mapping[str, Any], *keys: str) -> Any:
    for holder in _holders(data):
        for key in keys:
            value = holder.get(key)
            if value is not None and value != "" and value != []:
                return value
    return None


def household(data: Mapping[str, Any]) -> Household:
    applicant = find(data, "applicant")
    applicant = dict(applicant) if isinstance(applicant, Mapping) else {}
    if not applicant.get("name") and isinstance(find(data, "applicant_name"), str):
        applicant["name"] = find(data, "applicant_name")
    raw = find(data, "members")
    members = [dict(m) for m in raw if isinstance(m, Mapping)] if isinstance(raw, list) else []
    size = find(data, "household_size")
    if not isinstance(size, int) or isinstance(size, bool):
        size = sum(1 for m in members if m.get("counted", True) is not False) or None
    kind = find(data, "assistance_type")
    return Household(applicant, members, size, kind if isinstance(kind, str) else None)


def masked(h: Household) -> Household:
    """The household with every 身份证号 masked (lists, exports, unauthorized viewers)."""
    applicant = {**h.applicant, "id_number": mask_id(h.applicant.get("id_number"))}
    members = [{**m, "id_number": mask_id(m.get("id_number"))} for m in h.members]
    return Household(applicant, members, h.size, h.assistance_type)


def id_numbers(h: Household) -> list[str]:
    found = [h.applicant.get("id_number"), *(m.get("id_number") for m in h.members)]
    return sorted({v for v in found if isinstance(v, str) and v})


def documents(data: Any, path: str = "") -> list[Document]:
    """Attachment references ({sha256, name, mime, size}) anywhere in the data."""
    if isinstance(data, Mapping):
        if isinstance(data.get("sha256"), str) and isinstance(data.get("name"), str):
            size = data.get("size")
            return [
                Document(path, data["name"], data.get("mime"), size if isinstance(size, int) else None, data["sha256"])
            ]
        return [d for key, value in data.items() for d in documents(value, f"{path}/{key}" if path else str(key))]
    if isinstance(data, list):
        return [d for i, value in enumerate(data) for d in documents(value, f"{path}[{i + 1}]")]
    return []


def decision(data: Mapping[str, Any]) -> Decision:
    approved = find(data, *APPROVED_KEYS)
    amount = find(data, *AMOUNT_KEYS)
    reasons = find(data, *REASON_KEYS)
    if isinstance(reasons, str):
        reasons = [reasons]
    return Decision(
        approved=approved if isinstance(approved, bool) else None,
        amount=float(amount) if isinstance(amount, int | float) and not isinstance(amount, bool) else None,
        start_month=_str(find(data, *START_KEYS)),
        certificate_no=_str(find(data, *CERTIFICATE_KEYS)),
        reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
        decided_on=_str(find(data, *DECIDED_KEYS)),
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
