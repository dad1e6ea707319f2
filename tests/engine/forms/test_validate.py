"""Form schemas at deploy time and submissions at run time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.errors import FieldError, FormValidationError, Location
from engine.forms.validate import FORMAT_CHECKER, FormRef, check_form_schema, check_ui_schema, validate_submission
from tests.conftest import FIXTURES

FORMS = FIXTURES / "deployment" / "forms"
HERE = Location("m.bpmn", "apply", "bpmn:userTask", line=7)
APPLY = FormRef("apply-schema.json", json.loads((FORMS / "apply-schema.json").read_text()), None, None)
VALID = {"name": "张三", "household_size": 3, "phone": "13800000000", "apply_date": "2026-11-02", "channel": "窗口"}


def errors(data: Any, form: FormRef | None = APPLY) -> list[FieldError]:
    with pytest.raises(FormValidationError) as caught:
        validate_submission(form, data, location=HERE)
    return caught.value.field_errors


def by_path(data: Any) -> dict[str, tuple[str, str]]:
    return {e.path: (e.code, e.message) for e in errors(data)}


# -- schemas ---------------------------------------------------------------------------------------


def test_valid_schema_and_ui_schema_pass() -> None:
    assert check_form_schema(APPLY.schema, location=HERE) == []
    assert check_ui_schema(json.loads((FORMS / "apply-uischema.json").read_text()), location=HERE) == []


def test_invalid_schema_points_at_the_bad_keyword() -> None:
    problems = check_form_schema(json.loads((FORMS / "broken-schema.json").read_text()), location=HERE)
    assert {p.code for p in problems} == {"FORM_SCHEMA_INVALID"}
    assert {p.location.field for p in problems} == {"properties/age/type", "properties/age/minimum"}
    assert all(p.location.element_id == "apply" for p in problems)


def test_options_from_task_data_is_a_dialect_with_a_chinese_explanation() -> None:
    problems = check_form_schema(json.loads((FORMS / "dialect-schema.json").read_text()), location=HERE)
    assert [(p.code, p.location.field) for p in problems] == [("FORM_DIALECT", "properties/fruit/anyOf/0")]
    assert "enum" in problems[0].message


@pytest.mark.parametrize(
    ("schema", "code"),
    [
        ([], "FORM_SCHEMA_INVALID"),
        ({"type": "object", "properties": {"d": {"type": "string", "minimumDate": "today"}}}, "FORM_DIALECT"),
        ({"properties": {"x": {"$ref": "https://example.com/s.json"}}}, "FORM_SCHEMA_INVALID"),
        ({"properties": {"x": {"type": "string", "pattern": "(unclosed"}}}, "FORM_SCHEMA_INVALID"),
    ],
)
def test_other_schema_refusals(schema: Any, code: str) -> None:
    assert code in {p.code for p in check_form_schema(schema, location=HERE)}


def test_ui_schema_must_be_an_object() -> None:
    assert [p.code for p in check_ui_schema(["ui:order"], location=HERE)] == ["FORM_SCHEMA_INVALID"]


# -- submissions -------------------------------------------------------------------------------------


def test_valid_submission_is_returned_as_a_deep_copy() -> None:
    data: dict[str, Any] = {**VALID, "members": [{"name": "李四", "age": 9}]}
    result = validate_submission(APPLY, data, location=HERE)
    assert result == data
    result["members"][0]["name"] = "changed"
    assert data["members"][0]["name"] == "李四"


def test_required_fields_each_get_their_own_error() -> None:
    assert by_path({}) == {
        "name": ("FORM_REQUIRED", "此项为必填"),
        "household_size": ("FORM_REQUIRED", "此项为必填"),
    }


def test_nested_paths_and_messages_per_keyword() -> None:
    found = by_path(
        {
            "name": "张",
            "household_size": 30,
            "phone": "12345",
            "apply_date": "2026-13-40",
            "channel": "电话",
            "members": [{"age": -1}],
            "extra": True,
        }
    )
    assert found == {
        "name": ("FORM_LENGTH", "至少需要 2 个字符"),
        "household_size": ("FORM_RANGE", "不能大于 20"),
        "phone": ("FORM_PATTERN", "请输入 11 位手机号"),
        "apply_date": ("FORM_FORMAT", "不是有效的日期（YYYY-MM-DD）"),
        "channel": ("FORM_ENUM", "请从给定选项中选择"),
        "members/0/name": ("FORM_REQUIRED", "此项为必填"),
        "members/0/age": ("FORM_RANGE", "不能小于 0"),
        "extra": ("FORM_UNKNOWN_FIELD", "表单中没有这一项"),
    }


def test_type_and_item_count_messages() -> None:
    found = by_path({**VALID, "household_size": "三", "members": []})
    assert found == {
        "household_size": ("FORM_TYPE", "类型不正确，应为整数"),
        "members": ("FORM_ITEMS", "至少需要 1 项"),
    }


def test_error_carries_the_task_location() -> None:
    with pytest.raises(FormValidationError) as caught:
        validate_submission(APPLY, {}, location=HERE)
    problems = caught.value.problems()
    assert {(p.location.element_id, p.location.field) for p in problems} == {
        ("apply", "name"),
        ("apply", "household_size"),
    }


def test_task_without_form_takes_no_data() -> None:
    assert validate_submission(None, None) == {}
    assert validate_submission(None, {}) == {}
    assert [(e.path, e.code) for e in errors({"note": ["a"]}, form=None)] == [("note", "FORM_UNKNOWN_FIELD")]
    assert [e.code for e in errors("text", form=None)] == ["FORM_TYPE"]


def test_undeclared_fields_are_refused_unless_the_form_allows_them() -> None:
    open_form = FormRef("f.json", {"type": "object", "properties": {"approved": {"type": "boolean"}}}, None, None)
    found = errors({"approved": True, "applicant_name": "改名"}, form=open_form)
    assert [(e.path, e.code) for e in found] == [("applicant_name", "FORM_UNKNOWN_FIELD")]
    allowing = FormRef("f.json", {**open_form.schema, "additionalProperties": True}, None, None)
    assert validate_submission(allowing, {"approved": True, "note": "x"}) == {"approved": True, "note": "x"}


def test_nan_and_infinity_are_refused() -> None:
    found = errors({"name": "张三", "amount": float("nan"), "rows": [{"x": float("inf")}]})
    assert {(e.path, e.code) for e in found} >= {("amount", "FORM_NUMBER"), ("rows/0/x", "FORM_NUMBER")}


def test_submission_must_be_an_object() -> None:
    assert [e.code for e in errors(["张三"])] == ["FORM_TYPE"]


def test_date_time_format_is_checked() -> None:
    form = FormRef("s.json", {"properties": {"at": {"type": "string", "format": "date-time"}}}, None, None)
    assert validate_submission(form, {"at": "2026-11-02T09:00:00+08:00"}) == {"at": "2026-11-02T09:00:00+08:00"}
    assert [e.code for e in errors({"at": "2026-11-02 nine"}, form=form)] == ["FORM_FORMAT"]


def test_custom_formats_plug_into_the_shared_checker() -> None:
    @FORMAT_CHECKER.checks("test-even-digits", raises=ValueError)
    def even(value: object) -> bool:
        if isinstance(value, str) and len(value) % 2:
            raise ValueError("odd")
        return True

    try:
        form = FormRef("s.json", {"properties": {"code": {"type": "string", "format": "test-even-digits"}}}, None, None)
        assert validate_submission(form, {"code": "12"}) == {"code": "12"}
        assert [(e.path, e.code) for e in errors({"code": "123"}, form=form)] == [("code", "FORM_FORMAT")]
    finally:
        FORMAT_CHECKER.checkers.pop("test-even-digits")


def test_one_of_const_options_read_as_a_choice() -> None:
    schema = {"properties": {"ok": {"type": "boolean", "oneOf": [{"const": True}, {"const": False}]}}}
    assert [(e.path, e.code) for e in errors({"ok": "yes"}, form=FormRef("s", schema, None, None))][0] == (
        "ok",
        "FORM_TYPE",
    )
