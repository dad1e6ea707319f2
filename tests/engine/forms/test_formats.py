"""Custom form formats (身份证号, 手机号, 银行卡号, 金额), the 身份证号 consistency keyword
and the reference household form in forms/common.

ID and card numbers are synthetic: the check characters are computed here,
independently of engine.forms.formats, from GB 11643-1999 and the Luhn rule.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from engine.deploy.builder import build_deployment
from engine.deploy.model import SourceFile, load_files
from engine.errors import DeploymentRefused, FieldError, FormValidationError, Location
from engine.forms.formats import FORMATS, check_money, id_number_check_char
from engine.forms.problems import FormProblem
from engine.forms.validate import FORMAT_CHECKER, FormRef, check_form_schema, check_ui_schema, validate_submission
from engine.sandbox.scripts import Sandbox
from tests.conftest import ROOT
from tests.support.households import (
    APPLICANT_ID,
    CARD,
    CHILD_ID,
    SPOUSE_ID,
    bad_luhn,
    household,
    id_number,
    luhn_card,
    wrong_check,
)

FORMS_DIR = ROOT / "forms"
COMMON = FORMS_DIR / "common"
HERE = Location("household.bpmn", "register", "bpmn:userTask", line=3)
HOUSEHOLD_SCHEMA = json.loads((COMMON / "household-schema.json").read_text(encoding="utf-8"))
HOUSEHOLD_UI = json.loads((COMMON / "household-uischema.json").read_text(encoding="utf-8"))
HOUSEHOLD = FormRef("household-schema.json", HOUSEHOLD_SCHEMA, "household-uischema.json", HOUSEHOLD_UI)


def fields(data: Any, form: FormRef) -> dict[str, tuple[str, str]]:
    with pytest.raises(FormValidationError) as caught:
        validate_submission(form, data, location=HERE)
    found: list[FieldError] = caught.value.field_errors
    return {e.path: (e.code, e.message) for e in found}


def form_of(properties: dict[str, Any], **extra: Any) -> FormRef:
    return FormRef("s.json", {"type": "object", "properties": properties, **extra}, None, None)


# -- the formats one by one ---------------------------------------------------------------------------


def test_formats_are_registered_on_the_shared_checker() -> None:
    assert set(FORMATS) == {"cn-id-number", "cn-mobile", "bank-card", "money"}
    assert set(FORMATS) <= FORMAT_CHECKER.checkers.keys()
    assert all(FORMAT_CHECKER.checkers[name][1] is FormProblem for name in FORMATS)


def test_the_check_character_matches_the_standard_and_the_test_helper() -> None:
    assert id_number_check_char("11010519491231002") == "X"  # the GB 11643 worked example
    for number in (APPLICANT_ID, SPOUSE_ID, CHILD_ID, id_number("440305", "20000101", "008")):
        assert id_number_check_char(number[:17]) == number[17]
    with pytest.raises(ValueError):
        id_number_check_char("1101051949123100")


def check(fmt: str, value: Any) -> tuple[str, str] | None:
    """None when ``value`` passes ``fmt``, else (code, message)."""
    try:
        assert FORMATS[fmt](value) is True
    except FormProblem as problem:
        return problem.code, problem.message
    return None


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002X",
        APPLICANT_ID,
        SPOUSE_ID,
        CHILD_ID,
        id_number("650102", "19000101", "001"),
        id_number("110101", "20240229", "999"),
    ],
)
def test_valid_id_numbers(value: str) -> None:
    assert check("cn-id-number", value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("110105194912310021", "身份证号校验码不正确，请逐位核对"),  # expected X
        (wrong_check(APPLICANT_ID), "身份证号校验码不正确，请逐位核对"),
        (APPLICANT_ID.replace("19680315123", "19680315213"), "身份证号校验码不正确，请逐位核对"),  # transposed
        ("11010519491231002x", "身份证号末位的 X 应为大写"),
        (APPLICANT_ID[:17], "身份证号应为 18 位（现为 17 位）"),
        (APPLICANT_ID + "0", "身份证号应为 18 位（现为 19 位）"),
        ("", "身份证号应为 18 位（现为 0 位）"),
        ("1101051949123100XX", "身份证号前 17 位应为数字，末位为数字或大写 X"),
        ("11010519491231A02X", "身份证号前 17 位应为数字，末位为数字或大写 X"),
        ("１１０１０５１９４９１２３１００２X", "身份证号前 17 位应为数字，末位为数字或大写 X"),  # full-width digits
        (id_number("000000", "19800101", "001"), "身份证号中的地址码（前 6 位）不正确"),
        (id_number("110105", "19990230", "001"), "身份证号中的出生日期不存在（19990230）"),
        (id_number("110105", "19491331", "002"), "身份证号中的出生日期不存在（19491331）"),
        (id_number("110105", "20230229", "002"), "身份证号中的出生日期不存在（20230229）"),
        (id_number("110105", "19800100", "002"), "身份证号中的出生日期不存在（19800100）"),
        (id_number("110105", "00000101", "002"), "身份证号中的出生日期不存在（00000101）"),
    ],
)
def test_invalid_id_numbers_say_what_is_wrong(value: str, message: str) -> None:
    assert check("cn-id-number", value) == ("FORM_ID_NUMBER", message)


@pytest.mark.parametrize("value", ["13800000000", "19912345678", "16612345678", "17012345678"])
def test_valid_mobiles(value: str) -> None:
    assert check("cn-mobile", value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12345678901", "手机号号段不正确（应以 13–19 开头）"),
        ("10012345678", "手机号号段不正确（应以 13–19 开头）"),
        ("23800000000", "手机号号段不正确（应以 13–19 开头）"),
        ("1380000000", "手机号应为 11 位数字"),
        ("138000000000", "手机号应为 11 位数字"),
        ("138-0000-000", "手机号应为 11 位数字"),
        ("+8613800000000", "手机号应为 11 位数字"),
        ("１３８００００００００", "手机号应为 11 位数字"),
    ],
)
def test_invalid_mobiles(value: str, message: str) -> None:
    assert check("cn-mobile", value) == ("FORM_MOBILE", message)


@pytest.mark.parametrize(
    "value", [CARD, luhn_card("62", 16), luhn_card("4", 16), luhn_card("9", 12), "4111111111111111"]
)
def test_valid_bank_cards(value: str) -> None:
    assert check("bank-card", value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (bad_luhn(CARD), "银行卡号校验失败（Luhn），请核对卡号"),
        ("4111111111111112", "银行卡号校验失败（Luhn），请核对卡号"),
        ("6222020200000000018", "银行卡号校验失败（Luhn），请核对卡号"),
        ("79927398713", "银行卡号应为 12–19 位数字"),  # Luhn-valid but 11 digits
        (luhn_card("62", 20), "银行卡号应为 12–19 位数字"),
        ("6222 0202 0000 0000", "银行卡号应为 12–19 位数字"),
        ("", "银行卡号应为 12–19 位数字"),
    ],
)
def test_invalid_bank_cards(value: str, message: str) -> None:
    assert check("bank-card", value) == ("FORM_BANK_CARD", message)


@pytest.mark.parametrize(
    "value",
    [0, 0.0, -0.0, 12, 12.5, 12.34, 100.10, 0.3, 1e20, 10**30, "0", "12", "12.3", "12.34", "1.500", "-0.00", "007"],
)
def test_valid_money(value: Any) -> None:
    assert check("money", value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "金额不能为负数"),
        (-0.01, "金额不能为负数"),
        ("-12.34", "金额不能为负数"),
        (-1.234, "金额不能为负数"),
        (12.345, "金额最多两位小数"),
        (0.1 + 0.2, "金额最多两位小数"),  # 0.30000000000000004
        (1e-7, "金额最多两位小数"),
        ("12.345", "金额最多两位小数"),
        ("0.001", "金额最多两位小数"),
        ("12.", "金额应为数字，如 1234.50"),
        (".5", "金额应为数字，如 1234.50"),
        ("+12", "金额应为数字，如 1234.50"),
        ("1e3", "金额应为数字，如 1234.50"),
        ("1,234.50", "金额应为数字，如 1234.50"),
        (" 12", "金额应为数字，如 1234.50"),
        ("十二元", "金额应为数字，如 1234.50"),
        (float("nan"), "金额不是有效的数字"),
        (float("-inf"), "金额不是有效的数字"),
    ],
)
def test_invalid_money(value: Any, message: str) -> None:
    assert check("money", value) == ("FORM_MONEY", message)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("value", [None, True, ["1"], {"a": 1}])
def test_formats_leave_other_types_to_the_type_keyword(fmt: str, value: Any) -> None:
    assert check(fmt, value) is None


def test_formats_ignore_numbers_except_money() -> None:
    assert check("cn-id-number", 110105194912310021) is None
    assert check("cn-mobile", 13800000000) is None
    assert check("bank-card", 4111111111111111) is None
    assert check_money(3) is True


# -- the acceptance refusals, through a form ----------------------------------------------------------------


def test_acceptance_wrong_check_digit() -> None:
    data = household()
    data["applicant"]["id_number"] = wrong_check(APPLICANT_ID)
    data["members"][0]["id_number"] = wrong_check(APPLICANT_ID)
    assert fields(data, HOUSEHOLD) == {
        "applicant/id_number": ("FORM_ID_NUMBER", "身份证号校验码不正确，请逐位核对"),
        "members/0/id_number": ("FORM_ID_NUMBER", "身份证号校验码不正确，请逐位核对"),
    }


def test_acceptance_impossible_birth_date() -> None:
    data = household()
    data["members"][2]["id_number"] = id_number("330106", "20130229", "371")  # 2013 is not a leap year
    data["members"][2]["birth_date"] = "2013-02-29"
    assert fields(data, HOUSEHOLD) == {
        "members/2/id_number": ("FORM_ID_NUMBER", "身份证号中的出生日期不存在（20130229）"),
        "members/2/birth_date": ("FORM_FORMAT", "不是有效的日期（YYYY-MM-DD）"),
    }


def test_acceptance_bad_bank_card() -> None:
    data = household()
    data["bank_account"]["card_number"] = bad_luhn(CARD)
    assert fields(data, HOUSEHOLD) == {
        "bank_account/card_number": ("FORM_BANK_CARD", "银行卡号校验失败（Luhn），请核对卡号"),
    }


def test_acceptance_negative_amount() -> None:
    data = household()
    data["members"][1]["monthly_income"]["transfer"] = -280.35
    assert fields(data, HOUSEHOLD) == {
        "members/1/monthly_income/transfer": ("FORM_MONEY", "金额不能为负数"),
    }


def test_refusals_carry_the_task_location() -> None:
    data = household()
    data["bank_account"]["card_number"] = bad_luhn(CARD)
    with pytest.raises(FormValidationError) as caught:
        validate_submission(HOUSEHOLD, data, location=HERE)
    [problem] = caught.value.problems()
    assert (problem.code, problem.location.element_id, problem.location.field) == (
        "FORM_BANK_CARD",
        "register",
        "bank_account/card_number",
    )


def test_a_designer_message_replaces_the_text_but_keeps_the_code() -> None:
    form = form_of({"card": {"type": "string", "format": "bank-card", "validationErrorMessage": "请核对银行卡号"}})
    assert fields({"card": bad_luhn(CARD)}, form) == {"card": ("FORM_BANK_CARD", "请核对银行卡号")}


def test_money_as_a_numeric_string_field() -> None:
    form = form_of({"amount": {"type": ["number", "string"], "format": "money"}})
    assert validate_submission(form, {"amount": "1234.50"}) == {"amount": "1234.50"}
    assert fields({"amount": "-5"}, form) == {"amount": ("FORM_MONEY", "金额不能为负数")}
    assert fields({"amount": 5.005}, form) == {"amount": ("FORM_MONEY", "金额最多两位小数")}


# -- cross-field consistency ---------------------------------------------------------------------------


def test_birth_date_and_sex_must_match_the_id_number_inside_the_members_array() -> None:
    data = household()
    data["members"][2]["birth_date"] = "2012-03-01"
    data["members"][2]["sex"] = "女"
    assert fields(data, HOUSEHOLD) == {
        "members/2/birth_date": ("FORM_ID_MISMATCH", "出生日期与身份证号不一致（身份证号中为 2012-02-29）"),
        "members/2/sex": ("FORM_ID_MISMATCH", "性别与身份证号不一致（身份证号第 17 位表示男）"),
    }


def test_the_applicant_object_is_checked_too() -> None:
    data = household()
    data["applicant"]["sex"] = "女"
    assert fields(data, HOUSEHOLD) == {
        "applicant/sex": ("FORM_ID_MISMATCH", "性别与身份证号不一致（身份证号第 17 位表示男）"),
    }


def test_consistency_leaves_invalid_values_to_their_own_checks() -> None:
    data = household()
    data["members"][1]["id_number"] = wrong_check(SPOUSE_ID)  # only the format reports it
    data["members"][1]["sex"] = "男"  # would mismatch, but the ID is not readable
    data["members"][2]["birth_date"] = "2012-02-30"  # the date format reports it
    data["members"][2]["sex"] = "未知"  # the enum reports it
    assert fields(data, HOUSEHOLD) == {
        "members/1/id_number": ("FORM_ID_NUMBER", "身份证号校验码不正确，请逐位核对"),
        "members/2/birth_date": ("FORM_FORMAT", "不是有效的日期（YYYY-MM-DD）"),
        "members/2/sex": ("FORM_ENUM", "请从给定选项中选择"),
    }


def test_consistency_works_in_draft_7_with_only_some_fields() -> None:
    form = form_of(
        {"id": {"type": "string", "format": "cn-id-number"}, "gender": {"enum": ["男", "女"]}},
        **{"x-idNumberConsistency": {"idField": "id", "sexField": "gender"}},
    )
    assert validate_submission(form, {"id": SPOUSE_ID, "gender": "女"}) == {"id": SPOUSE_ID, "gender": "女"}
    assert validate_submission(form, {"id": SPOUSE_ID}) == {"id": SPOUSE_ID}  # nothing to compare
    assert fields({"id": SPOUSE_ID, "gender": "男"}, form) == {
        "gender": ("FORM_ID_MISMATCH", "性别与身份证号不一致（身份证号第 17 位表示女）")
    }


# -- dependent fields are reported where they are missing -------------------------------------------------


def test_dependent_required_is_reported_on_each_missing_field() -> None:
    data = household()
    data["agent_name"] = "赵六"
    data["agent_mobile"] = "13700000000"
    data["members"][1].pop("disability_level")
    data["members"][1]["disability"] = False  # the certificate alone still requires the level
    assert fields(data, HOUSEHOLD) == {
        "agent_id_number": ("FORM_REQUIRED", "填写了「代办人姓名」时此项为必填"),
        "agent_relationship": ("FORM_REQUIRED", "填写了「代办人姓名」时此项为必填"),
        "members/1/disability_level": ("FORM_REQUIRED", "填写了「残疾人证号」时此项为必填"),
    }


def test_draft_7_dependencies_arrays_are_located_and_schemas_still_apply() -> None:
    form = form_of(
        {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "integer"}},
        dependencies={"a": ["b"], "c": {"required": ["b"], "properties": {"c": {"maximum": 3}}}},
    )
    assert validate_submission(form, {"a": "x", "b": "y", "c": 1}) == {"a": "x", "b": "y", "c": 1}
    assert fields({"a": "x"}, form) == {"b": ("FORM_REQUIRED", "填写了「a」时此项为必填")}
    assert fields({"c": 5}, form) == {"b": ("FORM_REQUIRED", "此项为必填"), "c": ("FORM_RANGE", "不能大于 3")}


# -- the reference household form ------------------------------------------------------------------------


def test_reference_form_passes_the_deploy_time_checks() -> None:
    assert check_form_schema(HOUSEHOLD_SCHEMA, location=HERE) == []
    assert check_ui_schema(HOUSEHOLD_UI, location=HERE) == []


def test_reference_form_accepts_a_complete_valid_household() -> None:
    data = household()
    assert validate_submission(HOUSEHOLD, data, location=HERE) == data
    proxied = {**copy.deepcopy(data), "apply_channel": "村居代办", "agent_name": "赵六"}
    proxied |= {"agent_id_number": id_number("330106", "19850101", "010"), "agent_mobile": "13700000000"}
    proxied["agent_relationship"] = "村委会工作人员"
    assert validate_submission(HOUSEHOLD, proxied, location=HERE) == proxied


def test_reference_form_refuses_an_invalid_household_with_every_error_located() -> None:
    data = household()
    data["apply_channel"] = "村居代办"  # then 代办人 is required
    applicant = data["applicant"]
    applicant["id_number"] = id_number("330106", "19990230", "123")
    applicant["mobile"] = "12345678901"
    applicant["birth_date"] = "1968-3-15"
    del applicant["registered_address"]
    data["members"][0]["monthly_income"] = {"wages": -1200, "business": 0.005, "bonus": 5}
    data["members"][0].pop("illness")  # 慢性病 requires the illness
    data["members"][1].pop("disability_level")  # disability requires the level
    data["members"][1]["disability_certificate"] = SPOUSE_ID + "82"
    data["members"][2]["birth_date"] = "2012-02-28"
    data["members"][2]["counted"] = False  # then a reason is required
    data["members"][2]["relationship"] = "朋友"
    data["bank_account"]["card_number"] = "6222 0202 0000 0000"
    data["extra"] = 1
    assert fields(data, HOUSEHOLD) == {
        "agent_name": ("FORM_REQUIRED", "此项为必填"),
        "applicant/id_number": ("FORM_ID_NUMBER", "身份证号中的出生日期不存在（19990230）"),
        "applicant/mobile": ("FORM_MOBILE", "手机号号段不正确（应以 13–19 开头）"),
        "applicant/birth_date": ("FORM_FORMAT", "不是有效的日期（YYYY-MM-DD）"),
        "applicant/registered_address": ("FORM_REQUIRED", "此项为必填"),
        "members/0/monthly_income/wages": ("FORM_MONEY", "金额不能为负数"),
        "members/0/monthly_income/business": ("FORM_MONEY", "金额最多两位小数"),
        "members/0/monthly_income/bonus": ("FORM_UNKNOWN_FIELD", "表单中没有这一项"),
        "members/0/illness": ("FORM_REQUIRED", "此项为必填"),
        "members/1/disability_level": ("FORM_REQUIRED", "填写了「残疾人证号」时此项为必填"),
        "members/1/disability_certificate": (
            "FORM_PATTERN",
            "残疾人证号应为 20 位：18 位身份证号 + 残疾类别（1–7）+ 残疾等级（1–4）",
        ),
        "members/2/birth_date": ("FORM_ID_MISMATCH", "出生日期与身份证号不一致（身份证号中为 2012-02-29）"),
        "members/2/not_counted_reason": ("FORM_REQUIRED", "此项为必填"),
        "members/2/relationship": ("FORM_ENUM", "请从给定选项中选择"),
        "bank_account/card_number": ("FORM_BANK_CARD", "银行卡号应为 12–19 位数字"),
        "extra": ("FORM_UNKNOWN_FIELD", "表单中没有这一项"),
    }


def test_reference_form_requires_at_least_one_member() -> None:
    data = {**household(), "members": []}
    assert fields(data, HOUSEHOLD) == {"members": ("FORM_ITEMS", "至少需要 1 项")}


# -- the keyword at deploy time -----------------------------------------------------------------------------


def test_keyword_is_accepted_at_deploy_time_in_draft_7_and_2020_12() -> None:
    member_schema = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "born": {"type": "string"}},
        "x-idNumberConsistency": {"idField": "id", "birthDateField": "born"},
    }
    for dialect in ("http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2020-12/schema"):
        schema = {"$schema": dialect, "properties": {"members": {"type": "array", "items": member_schema}}}
        assert check_form_schema(schema, location=HERE) == []


KEYWORD_AT = "properties/members/items/x-idNumberConsistency"


@pytest.mark.parametrize(
    ("spec", "item_type", "where", "message"),
    [
        (
            "id_number",
            "object",
            KEYWORD_AT,
            'x-idNumberConsistency 必须是对象，例如 {"idField": "id_number", "birthDateField": "birth_date", '
            '"sexField": "sex"}',
        ),
        ({"birthDateField": "born"}, "object", KEYWORD_AT, "x-idNumberConsistency 缺少 idField（身份证号字段名）"),
        ({"idField": "id"}, "object", KEYWORD_AT, "x-idNumberConsistency 至少需要 birthDateField 或 sexField 之一"),
        (
            {"idField": "id", "sexField": "sex", "birthField": "born"},
            "object",
            f"{KEYWORD_AT}/birthField",
            "x-idNumberConsistency 不认识设置项 birthField（可用 idField、birthDateField、sexField）",
        ),
        (
            {"idField": "id", "sexField": 3},
            "object",
            f"{KEYWORD_AT}/sexField",
            "x-idNumberConsistency 的 sexField 必须是非空的字段名",
        ),
        (
            {"idField": "id", "birthDateField": "birth_date"},
            "object",
            f"{KEYWORD_AT}/birthDateField",
            "x-idNumberConsistency 的 birthDateField 引用的字段 birth_date 不在同一层的 properties 中",
        ),
        (
            {"idField": "id", "birthDateField": "born"},
            "string",
            KEYWORD_AT,
            "x-idNumberConsistency 只能用在 type 为 object 的 schema 上",
        ),
    ],
)
def test_malformed_keyword_is_refused_at_deploy_time_with_a_location(
    spec: Any, item_type: str, where: str, message: str
) -> None:
    items = {
        "type": item_type,
        "properties": {"id": {"type": "string"}, "born": {"type": "string"}, "sex": {"type": "string"}},
        "x-idNumberConsistency": spec,
    }
    problems = check_form_schema({"properties": {"members": {"type": "array", "items": items}}}, location=HERE)
    assert [(p.code, p.location.field, p.message) for p in problems] == [("FORM_SCHEMA_INVALID", where, message)]
    assert problems[0].location.element_id == "register"


def test_keyword_is_found_in_definitions_and_composition_but_not_in_data() -> None:
    schema = {
        "$defs": {"person": {"type": "object", "x-idNumberConsistency": {"idField": "id"}}},
        "allOf": [{"x-idNumberConsistency": []}],
        "properties": {"note": {"const": {"x-idNumberConsistency": "data, not a schema"}}},
    }
    problems = check_form_schema(schema, location=HERE)
    assert sorted(p.location.field or "" for p in problems) == [
        "$defs/person/x-idNumberConsistency",
        "allOf/0/x-idNumberConsistency",
    ]


BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="t">
<bpmn:process id="household" isExecutable="true">
<bpmn:startEvent id="start" />
<bpmn:userTask id="register"><bpmn:extensionElements><spiffworkflow:properties>
<spiffworkflow:property name="formJsonSchemaFilename" value="{schema}" />
</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="register" />
<bpmn:sequenceFlow id="f2" sourceRef="register" targetRef="end" />
</bpmn:process>
</bpmn:definitions>
"""


def test_reference_form_deploys_from_the_forms_directory(tmp_path: Path) -> None:
    model = tmp_path / "household.bpmn"
    model.write_text(BPMN.replace("{schema}", "common/household-schema.json"), encoding="utf-8")
    files, resolve = load_files([model], FORMS_DIR)
    deployment = build_deployment(files, sandbox=Sandbox(), resolve_form=resolve)
    assert deployment is not None


def test_a_malformed_keyword_refuses_the_deployment(tmp_path: Path) -> None:
    schema = copy.deepcopy(HOUSEHOLD_SCHEMA)
    schema["$defs"]["member"]["x-idNumberConsistency"]["sexField"] = "gender"
    source = SourceFile("household.bpmn", BPMN.replace("{schema}", "household-schema.json").encode())

    def resolve(bpmn_name: str, form_name: str) -> SourceFile | None:
        return SourceFile(form_name, json.dumps(schema, ensure_ascii=False).encode())

    with pytest.raises(DeploymentRefused) as caught:
        build_deployment([source], sandbox=Sandbox(), resolve_form=resolve)
    [problem] = caught.value.errors
    assert (problem.code, problem.location.element_id, problem.location.field) == (
        "FORM_SCHEMA_INVALID",
        "register",
        "$defs/member/x-idNumberConsistency/sexField",
    )
    assert "gender" in problem.message
