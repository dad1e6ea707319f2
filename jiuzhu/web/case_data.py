"""What a case's data says about the household and its documents.

Procedures keep the household form (forms/common/household-schema.json) at
the top level or under the variable of the task that collected it. The
decision is never read from case data (a client can set any key there): it
is the engine's record, engine/decisions.py. Pure: instance data in, plain
values out.
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


@dataclass(frozen=True)
class Document:
    field: str
    name: str
    mime: str | None
    size: int | None
    sha256: str


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
    applicant = find(data, "applicant", "person")  # 临时救助 急难型 names the person the emergency befell
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
