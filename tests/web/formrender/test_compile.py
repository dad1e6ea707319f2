"""What the renderer refuses to draw, each with the file and JSON pointer, and how it reads the UI schema."""

from __future__ import annotations

from typing import Any

import pytest

from jiuzhu.web.formrender import FormRefused, compile_form, parse_submission, render_form
from tests.support.formpost import browser_post


def refusal(schema: Any, ui: Any = None) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(FormRefused) as caught:
        compile_form(schema, ui, source="t-schema.json", ui_source="t-uischema.json")
    return [(p.location.file, p.location.field, p.message) for p in caught.value.errors]


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


@pytest.mark.parametrize(
    ("schema", "pointer", "words"),
    [
        (obj(a={"type": ["string", "null"]}), "/properties/a/type", "多种类型"),
        (obj(a={"oneOf": [{"type": "string"}, {"type": "integer"}]}), "/properties/a/oneOf", "const 选项列表"),
        (obj(a={"type": "object", "properties": {"x": {"type": "string"}}, "patternProperties": {"^y": {}}}),
         "/properties/a/patternProperties", "patternProperties"),
        (obj(a={"type": "object", "additionalProperties": {"type": "string"}, "properties": {"x": {"type": "string"}}}),
         "/properties/a/additionalProperties", "additionalProperties"),
        (obj(a={"type": "array", "items": [{"type": "string"}]}), "/properties/a/items", "items 为列表"),
        (obj(a={"type": "array"}), "/properties/a/items", "没有声明 items"),
        (obj(a={"type": "string", "format": "data-url"}), "/properties/a/format", "x-attachment"),
        (obj(a={"const": "x"}), "/properties/a/const", "固定值"),
        (obj(a={"title": "无类型"}), "/properties/a", "没有声明 type"),
        (obj(a={"type": "object"}), "/properties/a", "没有声明 properties"),
        ({**obj(a={"type": "string"}), "allOf": [{"required": ["a"]}]}, "/allOf/0", "allOf 只支持条件分支"),
        ({**obj(a={"type": "string"}), "if": {"required": ["a"]}, "then": {"properties": {"b": {"type": "string"}}}},
         "/then/properties/b", "条件分支中新增的字段 b"),
        ({**obj(a={"$ref": "#/$defs/n"}), "$defs": {"n": obj(m={"$ref": "#/$defs/n"})}},
         "/properties/a/properties/m", "循环"),
        (obj(a={"type": "object", "x-attachment": {"maxBytes": -1}}), "/properties/a/x-attachment", "maxBytes"),
        ({"type": "array", "items": {"type": "string"}}, "/", "最外层"),
    ],
)  # fmt: skip
def test_constructs_the_renderer_cannot_draw_are_refused_where_they_are(schema: Any, pointer: str, words: str) -> None:
    [(file, field, message)] = refusal(schema)
    assert (file, field) == ("t-schema.json", pointer)
    assert words in message


@pytest.mark.parametrize(
    ("ui", "pointer", "words"),
    [
        ({"a": {"ui:field": "custom"}}, "/a/ui:field", "不支持界面配置 ui:field"),
        ({"a": {"ui:widget": "color"}}, "/a/ui:widget", "不支持控件 color"),
        ({"b": {"ui:widget": "textarea"}}, "/b", "没有对应的字段"),
        ({"ui:order": ["a", "password"]}, "/ui:order", "password"),
        ({"a": {"ui:options": {"fancy": True}}}, "/a/ui:options/fancy", "不支持界面选项 fancy"),
        ({"a": {"ui:options": {"inputType": "color"}}}, "/a/ui:options/inputType", "不支持输入类型 color"),
    ],
)
def test_ui_schema_problems_name_the_ui_file(ui: Any, pointer: str, words: str) -> None:
    [(file, field, message)] = refusal(obj(a={"type": "string"}), ui)
    assert (file, field) == ("t-uischema.json", pointer)
    assert words in message


def test_the_refusal_message_names_the_file_and_pointer() -> None:
    with pytest.raises(FormRefused) as caught:
        compile_form(obj(a={"type": ["string", "null"]}), source="m-schema.json")
    assert caught.value.message.startswith("表单 m-schema.json 无法显示：")
    assert caught.value.message.endswith("（位置 /properties/a/type）")
    assert caught.value.to_dict()["problems"][0]["field"] == "/properties/a/type"


def test_ui_order_with_a_wildcard_and_unlisted_fields() -> None:
    form = compile_form(
        obj(a={"type": "string"}, b={"type": "string"}, c={"type": "string"}), {"ui:order": ["c", "*", "a"]}
    )
    assert [c.key for c in form.root.children] == ["c", "b", "a"]
    form = compile_form(obj(a={"type": "string"}, b={"type": "string"}), {"ui:order": ["b"]})
    assert [c.key for c in form.root.children] == ["b", "a"]  # not listed is still drawn


def test_widgets_and_labels() -> None:
    schema = obj(
        s={"type": "string", "enum": ["甲", "乙"]},
        r={"type": "string", "enum": ["甲", "乙"]},
        n={"type": "number", "format": "money", "title": "金额"},
        d={"type": "string", "format": "date"},
        t={"type": "string"},
        ok={"type": "boolean", "title": "同意"},
        agree={"type": "boolean", "enum": [True]},
        y={"type": "boolean", "default": False},
        pw={"type": "string"},
    )
    schema["required"] = ["ok", "agree"]
    ui = {
        "r": {"ui:widget": "radio"},
        "t": {"ui:widget": "textarea", "ui:options": {"rows": 5}},
        "pw": {"ui:widget": "password"},
    }
    kinds = {c.key: c.kind for c in compile_form(schema, ui).root.children}
    assert kinds == {
        "s": "select", "r": "radio", "n": "number", "d": "date", "t": "textarea",
        "ok": "radio",  # a required decision without a default is asked, not defaulted by an unticked box
        "agree": "checkbox", "y": "checkbox", "pw": "text",
    }  # fmt: skip
    html = render_form(compile_form(schema, ui), None)
    assert 'type="password"' in html and 'rows="5"' in html and '<span class="jz-unit">元</span>' in html
    assert '<label class="jz-option"><input type="radio" name="f/ok" value="true"> 是</label>' in html


def test_titles_help_placeholders_and_required_markers_from_the_ui_schema() -> None:
    schema = {**obj(name={"type": "string", "title": "姓名"}), "required": ["name"]}
    ui = {"name": {"ui:title": "申请人姓名", "ui:help": "与身份证一致", "ui:placeholder": "如 张三"}}
    html = render_form(compile_form(schema, ui), None)
    assert '申请人姓名<span class="jz-req" aria-hidden="true">*</span>' in html
    assert 'placeholder="如 张三"' in html and ">与身份证一致</p>" in html
    assert "<script" not in render_form(compile_form(obj(a={"type": "string", "title": "<script>x</script>"})), None)


def test_empty_value_and_autofocus_from_the_ui_schema() -> None:
    schema = {**obj(cheese={"type": "string"}, note={"type": "string"}), "required": ["cheese"]}
    form = compile_form(schema, {"cheese": {"ui:emptyValue": "", "ui:autofocus": True}})
    html = render_form(form, None)
    assert 'name="f/cheese" value="" aria-required="true" autofocus>' in html
    assert parse_submission(form, browser_post(html)).data == {"cheese": ""}  # empty means "", as RJSF reads it
