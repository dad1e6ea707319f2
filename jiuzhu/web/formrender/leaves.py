"""How a leaf field is drawn: the widget and input of a text, number,
boolean, choice or attachment field, or a located refusal. The structure
around the leaves (objects, arrays, $refs, ui:order) is :mod:`compile`'s."""

from __future__ import annotations

from typing import Any

from engine.errors import Location, Problem
from engine.forms.validate import FormRef
from jiuzhu.web.formrender.attachments import ATTACHMENT, attachment_limits
from jiuzhu.web.formrender.model import MISSING, Field, Option, value_text

INPUT_TYPES = {"text", "tel", "email", "url", "number", "password", "search"}
WIDGETS = {
    "string": {"text", "textarea", "password", "email", "uri", "tel", "date", "hidden", "select", "radio"},
    "number": {"text", "updown", "select", "radio", "hidden"},
    "boolean": {"checkbox", "radio", "select", "hidden"},
    "array": {"checkboxes", "select"},
}
_STRING_WIDGET_TYPE = {"password": "password", "email": "email", "uri": "url", "tel": "tel", "date": "date"}
BOOL_LABELS = {True: "是", False: "否"}


class LeafCompiler:
    """The compiler's state and its refusals, and the leaf fields."""

    def __init__(self, ref: FormRef) -> None:
        self.ref = ref
        self.schema = ref.schema
        self.problems: list[Problem] = []
        self.refs: list[str] = []  # the $refs being expanded, outermost first

    def refuse(self, pointer: str, message: str, *, ui: bool = False, code: str = "FORM_UNSUPPORTED") -> None:
        file = (self.ref.ui_schema_file or "uischema") if ui else self.ref.schema_file
        self.problems.append(Problem(code, message, Location(file=file, field=pointer or "/")))

    def choices(self, schema: dict[str, Any], ptr: str, kind: Any) -> list[Option] | None:
        labels = schema.get("enumNames")
        if isinstance(schema.get("enum"), list):
            values = schema["enum"]
            names = labels if isinstance(labels, list) and len(labels) == len(values) else [None] * len(values)
            pairs = list(zip(values, names, strict=True))
        else:
            alternatives = schema.get("oneOf", schema.get("anyOf"))
            if not isinstance(alternatives, list):
                return None
            if not all(isinstance(a, dict) and "const" in a for a in alternatives):
                word = "oneOf" if "oneOf" in schema else "anyOf"
                self.refuse(f"{ptr}/{word}", f"{word} 只支持 const 选项列表（每项 {{const, title}}）")
                return []
            pairs = [(a["const"], a.get("title")) for a in alternatives]
        if any(isinstance(v, dict | list) or v is None for v, _ in pairs):
            self.refuse(ptr, "选项的值必须是文本、数字或是/否")
            return []
        out = []
        for value, label in pairs:
            shown = label if label is not None else BOOL_LABELS.get(value, value) if kind == "boolean" else value
            out.append(Option(value, value_text(value), str(shown)))
        return out

    def scalar(
        self, f: Field, schema: dict[str, Any], ui: dict[str, Any], ptr: str, uiptr: str, kind: str,
        options: dict[str, Any],
    ) -> Field:  # fmt: skip
        f.json_type = kind
        widget = ui.get("ui:widget")
        allowed = WIDGETS["number" if kind == "integer" else kind]
        if widget is not None and widget not in allowed:
            self.refuse(f"{uiptr}/ui:widget", f"{kind} 类型的字段不支持控件 {widget}", ui=True)
            return f
        input_type = options.get("inputType")
        if input_type is not None and input_type not in INPUT_TYPES:
            self.refuse(f"{uiptr}/ui:options/inputType", f"不支持输入类型 {input_type}", ui=True)
        if widget == "hidden":
            f.kind = "hidden"
            return f
        if kind == "boolean":
            return self.boolean(f, schema, widget, ptr)
        choices = self.choices(schema, ptr, kind)
        if choices is not None:
            f.kind, f.options = ("radio" if widget == "radio" else "select"), choices
            return f
        if kind in ("number", "integer"):
            f.kind = "number"
            f.money = schema.get("format") == "money"
            f.input_mode = "numeric" if kind == "integer" else "decimal"
            step = options.get("step")
            f.step = value_text(step) if isinstance(step, int | float) else "0.01" if f.money else None
            return f
        if widget == "textarea":
            f.kind = "textarea"
            return f
        if widget == "date" or schema.get("format") == "date":
            f.kind, f.input_type = "date", "date"
            return f
        f.input_type = _STRING_WIDGET_TYPE.get(str(widget), "text")
        if input_type in INPUT_TYPES - {"number"}:
            f.input_type = input_type
        if schema.get("format") in ("cn-mobile", "bank-card", "cn-id-number") or input_type == "number":
            f.input_mode = "numeric" if schema.get("format") != "cn-id-number" else None
        return f

    def boolean(self, f: Field, schema: dict[str, Any], widget: Any, ptr: str) -> Field:
        f.json_type = "boolean"
        labelled = self.choices(schema, ptr, "boolean") if "oneOf" in schema or "anyOf" in schema else None
        if widget in ("radio", "select") or labelled:
            f.kind = widget if widget in ("radio", "select") else "radio"
        elif widget is None and f.required and f.default is MISSING and schema.get("enum") != [True]:
            f.kind = "radio"  # a decision must be made, not defaulted to 否 by an untouched checkbox
        else:
            f.kind = "checkbox"
            return f
        f.options = labelled or [Option(True, "true", "是"), Option(False, "false", "否")]
        f.inline = True
        return f

    def attachment(self, f: Field, schema: dict[str, Any], ptr: str) -> Field:
        f.kind, f.json_type = "attachment", "object"
        for message in attachment_limits(schema, f):
            self.refuse(f"{ptr}/{ATTACHMENT}", message)
        if schema.get("type", "object") != "object" or "properties" in schema or "additionalProperties" in schema:
            self.refuse(ptr, f'附件字段写作 {{"type": "object", "{ATTACHMENT}": {{…}}}}，结构由平台定义')
        return f
