"""The household-consistency keyword ``x-householdConsistency`` for application forms.

Rules a field-by-field schema cannot say (assistance-rules.md §6,
民发〔2021〕57号 第9条): the household has exactly one applicant (the member
whose relationship is 本人, and who is the applicant named on the form), no
two members share an ID number, and every adult member — aged 18 or more on
the form's application date — has signed the authorisation for the means
check. Each refusal names the member field it concerns, in Chinese.

Spec (all names of fields in the form)::

    "x-householdConsistency": {"members": "members", "applicant": "applicant",
                               "asOf": "apply_date", "adultAge": 18}

Members are objects with ``id_number``, ``relationship``, ``birth_date``
and ``authorised``; the applicant object has ``id_number``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from jsonschema import ValidationError  # type: ignore[import-untyped]

from engine.forms.problems import FormProblem

HOUSEHOLD_CONSISTENCY = "x-householdConsistency"
SELF = "本人"


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _error(path: list[Any], code: str, message: str) -> ValidationError:
    return ValidationError(message, path=path, cause=FormProblem(code, message))


def household_consistency(validator: Any, spec: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    del schema
    if not validator.is_type(instance, "object") or not isinstance(spec, dict):
        return
    field = spec.get("members", "members")
    members = instance.get(field)
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        return  # the array's own schema reports it
    applicants = [i for i, m in enumerate(members) if m.get("relationship") == SELF]
    if len(applicants) != 1:
        message = f"共同生活家庭成员中须有且只有一位申请人（与申请人关系为“{SELF}”），现有 {len(applicants)} 位"
        yield _error([field], "FORM_HOUSEHOLD_APPLICANT", message)
    applicant = instance.get(spec.get("applicant", "applicant"))
    if len(applicants) == 1 and isinstance(applicant, dict):
        own = members[applicants[0]].get("id_number")
        if applicant.get("id_number") not in (None, own):
            message = f"与申请人关系为“{SELF}”的成员，身份证号须与申请人一致"
            yield _error([field, applicants[0], "id_number"], "FORM_HOUSEHOLD_APPLICANT", message)
    seen: dict[str, int] = {}
    for index, member in enumerate(members):
        number = member.get("id_number")
        if isinstance(number, str) and number in seen:
            message = f"身份证号与第 {seen[number] + 1} 位成员重复"
            yield _error([field, index, "id_number"], "FORM_HOUSEHOLD_DUPLICATE", message)
        elif isinstance(number, str):
            seen[number] = index
    on = _date(instance.get(spec.get("asOf", "apply_date")))
    adult_age = spec.get("adultAge", 18)
    for index, member in enumerate(members):
        born = _date(member.get("birth_date"))
        if on is None or born is None or _age(born, on) < adult_age or member.get("authorised") is True:
            continue
        message = f"成年家庭成员（{member.get('name', '')}）须签署授权核对声明"
        yield _error([field, index, "authorised"], "FORM_HOUSEHOLD_AUTHORISATION", message)


_KEYS = {"members": str, "applicant": str, "asOf": str, "adultAge": int}


def spec_problems(spec: Any) -> list[tuple[str, str]]:
    """(setting, message) for every setting of a spec the keyword would not understand (deploy time)."""
    if not isinstance(spec, dict):
        return [("", f'{HOUSEHOLD_CONSISTENCY} 必须是对象，例如 {{"members": "members", "asOf": "apply_date"}}')]
    found = []
    for key, value in spec.items():
        kind = _KEYS.get(key)
        if kind is None:
            found.append((key, f"{HOUSEHOLD_CONSISTENCY} 不认识设置项 {key}（可用 {'、'.join(_KEYS)}）"))
        elif not isinstance(value, kind) or isinstance(value, bool) or not value:
            found.append((key, f"{HOUSEHOLD_CONSISTENCY} 的 {key} 必须是{'正整数' if kind is int else '非空的字段名'}"))
    return found
