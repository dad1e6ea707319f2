"""The gate a person's start passes: only what the start form declares, and
no second open application for the same applicant where the procedure says so.

Starts the engine makes itself (a parent's ``start_process``) do not pass
here: the parent's model decides what its child receives, and it was
deployed and checked like any model; a client cannot reach that path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.deploy.model import ProcessDefinition
from engine.errors import FieldError, FormValidationError, Location
from engine.ports import Unit
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
    if not open_cases:
        return
    case = open_cases[0]
    named = f"案件 {case.business_key}（编号 {case.id}）" if case.business_key else f"案件编号 {case.id}"
    message = f"身份证号 {mask_id(id_number)} 已有未办结的「{definition.name}」申请：{named}，不能重复申请"
    errors = [FieldError(applicant_id_path(data), "DUPLICATE_APPLICATION", message)]
    raise DuplicateApplication(errors, location=start_location(definition))


def applicant_key(data: Mapping[str, Any]) -> str | None:
    id_number = applicant(data)[1]
    return id_number.upper() if id_number else None
