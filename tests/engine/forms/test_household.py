"""The x-householdConsistency keyword: one applicant, unique ID numbers, every adult signed."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from engine.errors import FormValidationError, Location
from engine.forms.validate import FormRef, check_form_schema, validate_submission
from jiuzhu.demo_cases import application, load_households
from tests.conftest import FORMS

SCHEMA = json.loads((FORMS / "dibao" / "dibao-apply-schema.json").read_text(encoding="utf-8"))
FORM = FormRef("dibao-apply-schema.json", SCHEMA, None, None)


def errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(FormValidationError) as caught:
        validate_submission(FORM, data)
    return {fe.path: fe.message for fe in caught.value.field_errors}


def liu(on: str = "2026-03-02") -> dict[str, Any]:
    return copy.deepcopy(application(load_households()["刘桂芳"], on))


def test_the_application_form_passes_the_deploy_checks_and_accepts_every_demo_household() -> None:
    assert check_form_schema(SCHEMA, location=Location("dibao-apply-schema.json")) == []
    for household in load_households().values():
        form = application(household, "2026-03-02")
        assert validate_submission(FORM, form) == form


def test_no_applicant_at_all_is_refused_on_the_members_list() -> None:
    data = liu()
    data["members"][0]["relationship"] = "其他"
    assert errors(data) == {"members": "共同生活家庭成员中须有且只有一位申请人（与申请人关系为“本人”），现有 0 位"}


def test_the_applicant_member_must_be_the_applicant() -> None:
    data = liu()
    data["applicant"] |= {k: data["members"][1][k] for k in ("id_number", "sex", "birth_date")}
    assert errors(data) == {"members/0/id_number": "与申请人关系为“本人”的成员，身份证号须与申请人一致"}


def test_minors_need_not_sign_but_turning_18_before_the_application_date_counts() -> None:
    data = liu()
    assert "authorised" not in data["members"][2]  # born 2010-11-20: 15 on 2026-03-02
    grown = liu("2028-11-20")
    grown["members"][2].pop("authorised")
    assert errors(grown) == {"members/2/authorised": "成年家庭成员（张磊）须签署授权核对声明"}
    grown["apply_date"] = "2028-11-19"
    assert validate_submission(FORM, grown) == grown


def test_a_signature_must_be_given_not_declined() -> None:
    data = liu()
    data["members"][0]["authorised"] = False
    assert errors(data) == {"members/0/authorised": "成年家庭成员（刘桂芳）须签署授权核对声明"}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("members", "x-householdConsistency"),
        ({"member": "members"}, "x-householdConsistency/member"),
        ({"adultAge": "18"}, "x-householdConsistency/adultAge"),
        ({"asOf": ""}, "x-householdConsistency/asOf"),
    ],
)
def test_a_spec_the_keyword_would_not_understand_is_refused_at_deploy(spec: Any, field: str) -> None:
    problems = check_form_schema({"type": "object", "x-householdConsistency": spec}, location=Location("f.json"))
    assert [(p.code, p.location.field) for p in problems] == [("FORM_SCHEMA_INVALID", field)], problems
