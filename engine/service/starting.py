"""The gate a person's start passes: only what the start form declares, and
no second open application for the same applicant where the procedure says so.

Starts the engine makes itself (a parent's ``start_process``) do not pass
here: the parent's model decides what its child receives, and it was
deployed and checked like any model; a client cannot reach that path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.deploy.model import ProcessDefinition
from engine.errors import FieldError, FormValidationError, Location
from engine.events import EventDraft
from engine.ports import InstanceRecord, Unit
from engine.runtime.run import InstanceRun
from engine.runtime.task_facts import APPLICANT_PATHS, applicant, mask_id

OPEN_STATES = ("running", "incident")


class StartDataUndeclared(FormValidationError):
    """Start data names a field the start form does not declare (or the process has no start form)."""

    default_code = "START_DATA_UNDECLARED"


class DuplicateApplication(FormValidationError):
    """The applicant already has an open case of this procedure."""

    default_code = "DUPLICATE_APPLICATION"


def start_location(definition: ProcessDefinition) -> Location:
    return Location(definition.file, definition.start_event or definition.process_id, "startEvent")


def declared_fields(definition: ProcessDefinition) -> set[str]:
    form = definition.start_form
    if form is None:
        return set()
    properties = form.schema.get("properties") if isinstance(form.schema, Mapping) else None
    return set(properties) if isinstance(properties, Mapping) else set()


def refuse_undeclared(definition: ProcessDefinition, data: Mapping[str, Any]) -> None:
    """Decision fields (``approved``, ``monthly_amount`` …) cannot be injected at the start."""
    declared = declared_fields(definition)
    extra = sorted(str(key) for key in data if key not in declared)
    if not extra:
        return
    if definition.start_form is None:
        why = "本流程没有开始表单，发起时不能携带数据"
    else:
        why = f"开始表单 {definition.start_form.schema_file} 未声明此字段"
    errors = [
        FieldError(key, "START_DATA_UNDECLARED", f"发起数据中的「{key}」不能在发起时填写：{why}") for key in extra
    ]
    raise StartDataUndeclared(errors, location=start_location(definition))


def applicant_id_path(data: Mapping[str, Any]) -> str:
    for name_at, _name_key, id_at, id_key in APPLICANT_PATHS:
        holder = data.get(name_at) if name_at else data
        if isinstance(holder, Mapping):
            return f"{id_at}/{id_key}" if id_at else id_key
    return "applicant/id_number"


def refuse_duplicate(unit: Unit, definition: ProcessDefinition, data: Mapping[str, Any]) -> None:
    """One open application per applicant 身份证号 and procedure, where the procedure says so."""
    if not definition.one_open_per_applicant:
        return
    id_number = applicant(data)[1]
    if not id_number:
        return
    open_cases = unit.open_cases_of(definition.process_id, id_number.upper())
    if open_cases:
        raise duplicate(definition, data, id_number, open_cases[0], start_location(definition))


def duplicate(
    definition: ProcessDefinition,
    data: Mapping[str, Any],
    id_number: str,
    case: InstanceRecord | None,
    location: Location,
) -> DuplicateApplication:
    """The located refusal, naming the open case (``case`` None: the database
    refused the number and the case holding it ended since)."""
    if case is None:
        named = "另一件申请"
    elif case.business_key:
        named = f"案件 {case.business_key}（编号 {case.id}）"
    else:
        named = f"案件编号 {case.id}"
    message = f"身份证号 {mask_id(id_number)} 已有未办结的「{definition.name}」申请：{named}，不能重复申请"
    errors = [FieldError(applicant_id_path(data), "DUPLICATE_APPLICATION", message)]
    return DuplicateApplication(errors, location=location)


def remember_applicant(
    unit: Unit, definition: ProcessDefinition, instance_id: str, data: Mapping[str, Any], *, by_engine: bool
) -> None:
    """The new case's applicant row. The database has the last word: a start
    that raced another for the same applicant and lost is refused like one
    that came second."""
    key = applicant_key(data)
    if not key:
        return
    blocking = definition.one_open_per_applicant and not by_engine
    if not unit.add_applicant_case(instance_id, definition.process_id, key, blocking=blocking):
        raise held_by_another(unit, definition, instance_id, data, key, start_location(definition))


def held_by_another(
    unit: Unit, definition: ProcessDefinition, instance_id: str, data: Mapping[str, Any], key: str, where: Location
) -> DuplicateApplication:
    holders = [c for c in unit.open_cases_of(definition.process_id, key) if c.id != instance_id]
    return duplicate(definition, data, key, holders[0] if holders else None, where)


def follow_applicant(
    unit: Unit, definition: ProcessDefinition, instance_id: str, run: InstanceRun, drafts: Sequence[EventDraft]
) -> None:
    """A task (填写低保申请) that changes the applicant's 身份证号 is checked
    again like a start: refused at its field if another open case holds the
    new number; otherwise the case's row follows the new number."""
    if not definition.one_open_per_applicant:
        return
    completed = next((d for d in drafts if d.type == "task_completed"), None)
    if completed is None:
        return
    data = run.data()
    key = applicant_key(data)
    if not key:
        return
    held = unit.applicant_of(instance_id)
    if held == key:
        return
    where = Location(definition.file, completed.element_id, "userTask")
    holders = [c for c in unit.open_cases_of(definition.process_id, key) if c.id != instance_id]
    if holders:
        raise duplicate(definition, data, key, holders[0], where)
    if held is None:
        written = unit.add_applicant_case(instance_id, definition.process_id, key, blocking=True)
    else:
        written = unit.move_applicant_case(instance_id, key)
    if not written:
        raise held_by_another(unit, definition, instance_id, data, key, where)


def applicant_key(data: Mapping[str, Any]) -> str | None:
    id_number = applicant(data)[1]
    return id_number.upper() if id_number else None
