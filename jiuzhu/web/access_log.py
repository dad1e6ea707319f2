"""查阅记录: every read of a case's full personal data, from its audit chain.

The reads are already events on the case's chain (``record_access``): a full
身份证号 shown (``id_number_viewed``), a 材料 downloaded, a 联办 department
reading or leasing the household fields, a 一户一档 exported. Pure: events and
a username → (name, roles) lookup in, rows out, for the case page and the
dossier PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.audit import AuditEvent
from jiuzhu import timefmt

DOSSIER_EXPORTED = "dossier_exported"
ACCESS_KINDS = {
    "id_number_viewed": "查看完整身份证号",
    "document_downloaded": "下载材料",
    "partner_read": "联办部门查看家庭信息",
    "partner_leased": "联办部门系统获取家庭信息",
    DOSSIER_EXPORTED: "导出一户一档",
}
FIELD_NAMES = {"case_page": "案件页", "applicant_name": "申请人姓名", "audit_history": "案件历史（审计）"}


@dataclass(frozen=True)
class Access:
    seq: int
    at: datetime
    when: str  # Beijing time
    who: str
    role: str
    what: str
    fields: str


def _fields(detail: Mapping[str, Any]) -> str:
    parts = []
    if detail.get("field"):
        parts.append(FIELD_NAMES.get(str(detail["field"]), str(detail["field"])))
    shown = detail.get("shown")
    if shown:
        parts.append("身份证号 " + "、".join(map(str, shown if isinstance(shown, list) else [shown])))
    if detail.get("name"):
        parts.append(f"材料「{detail['name']}」")
    if detail.get("fields_read"):
        parts.append("字段 " + "、".join(map(str, detail["fields_read"])))
    if detail.get("item"):
        parts.append(f"联办事项 {detail['item']}")
    if detail.get("files"):
        parts.append("、".join(map(str, detail["files"])))
    return "；".join(parts) or "—"


def accesses(events: Sequence[AuditEvent], who: Callable[[str], tuple[str, str]]) -> list[Access]:
    """``who``: username → (display name, roles in Chinese)."""
    rows = []
    for e in events:
        if e.type not in ACCESS_KINDS:
            continue
        name, role = who(e.actor) if e.actor else ("—", "—")
        what = ACCESS_KINDS[e.type]
        rows.append(Access(e.seq, e.occurred_at, timefmt.moment(e.occurred_at), name, role, what, _fields(e.payload)))
    return rows
