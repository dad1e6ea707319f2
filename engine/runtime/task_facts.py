"""What an inbox needs to know about a ready task without opening the
instance: its org unit, applicant, partner department and SLA deadline (with
the unit its clock counts in, so a 补正's 30 days show natural days left, and
the region whose calendar its working days come from).
Computed at commit time and kept on the ready-task index row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.sla.clocks import SlaClock
from engine.workcal.calendar import PeriodKind

WORKING_DAYS = PeriodKind.WORKING_DAYS.value

# Where procedures keep the applicant, most specific first.
APPLICANT_PATHS = (
    ("applicant", "name", "applicant", "id_number"),
    ("person", "name", "person", "id_number"),  # 临时救助 急难型: the person the emergency befell
    ("household", "applicant_name", "household", "applicant_id_number"),
    ("", "applicant_name", "", "applicant_id_number"),
)


@dataclass(frozen=True)
class TaskFacts:
    org_unit: str | None = None
    business_key: str | None = None
    applicant_name: str | None = None
    id_number: str | None = None
    partner: str | None = None
    stage: str | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    paused: bool = False
    provisional: bool = False
    due_unit: str = WORKING_DAYS  # the unit of the clock due_at comes from: working_days or natural_days
    due_region: str | None = None  # that clock's region: its working days follow the region's holidays

    @property
    def id_suffix(self) -> str | None:
        return self.id_number[-4:] if self.id_number and len(self.id_number) >= 4 else None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def applicant(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for name_at, name_key, id_at, id_key in APPLICANT_PATHS:
        holder = data.get(name_at) if name_at else data
        id_holder = data.get(id_at) if id_at else data
        if isinstance(holder, Mapping) and _text(holder.get(name_key)):
            ident = id_holder.get(id_key) if isinstance(id_holder, Mapping) else None
            return _text(holder.get(name_key)), _text(ident)
    return None, None


def partner_of(data: Mapping[str, Any]) -> str | None:
    """The partner department a 联办 handoff task belongs to (handoff.item.partner)."""
    handoff = data.get("handoff")
    item = handoff.get("item") if isinstance(handoff, Mapping) else None
    return _text(item.get("partner")) if isinstance(item, Mapping) else None


def facts_for(
    task_id: str,
    task_data: Mapping[str, Any],
    instance_data: Mapping[str, Any],
    *,
    org_unit: str | None,
    business_key: str | None,
    clocks: Sequence[SlaClock],
) -> TaskFacts:
    name, ident = applicant(task_data)
    if name is None:
        name, ident = applicant(instance_data)
    by_key = {c.key: c for c in clocks if c.open}
    overall = by_key.get("overall")
    clock = by_key.get(f"task:{task_id}") or overall
    paused = any(c.paused_since is not None for c in (clock, overall) if c is not None)
    return TaskFacts(
        org_unit=org_unit,
        business_key=business_key,
        applicant_name=name,
        id_number=ident,
        partner=partner_of(task_data),
        stage=clock.name if clock else None,
        due_at=clock.due_at if clock else None,
        warn_at=clock.warn_at if clock else None,
        paused=paused,
        provisional=bool(clock and clock.provisional),
        due_unit=clock.unit if clock else WORKING_DAYS,
        due_region=clock.region if clock else None,
    )


def mask_id(value: str | None) -> str | None:
    """身份证号 for lists: first 4 and last 4 digits, e.g. 3301**********1234."""
    if not value:
        return None
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
