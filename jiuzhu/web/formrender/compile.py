"""Compiling a JSON schema + UI schema into a :class:`Form`, or refusing it with located reasons.

The renderer draws what it can draw faithfully and refuses the rest: a field
that cannot be shown is never silently left out. Each refusal names the file
and the JSON pointer of the construct, with a Chinese explanation.
"""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]

from engine.errors import JiuzhuError, Location, Problem
from engine.forms.validate import FormRef, check_form_schema
from jiuzhu.web.formrender.attachments import ATTACHMENT
from jiuzhu.web.formrender.conditions import gates_of, non_conditional_all_of
from jiuzhu.web.formrender.leaves import WIDGETS, LeafCompiler
from jiuzhu.web.formrender.model import MISSING, Field, Form

UI_KEYS = {
    "ui:order", "ui:widget", "ui:options", "ui:help", "ui:placeholder", "ui:title", "ui:description",
    "ui:autofocus", "ui:emptyValue", "ui:autocomplete", "ui:enableMarkdownInDescription", "ui:readonly",
    "ui:enumNames",
}  # fmt: skip
ROOT_UI_KEYS = {"ui:theme", "ui:submitButtonOptions"}  # presentation of the whole page; the page decides
UI_OPTIONS = {"inline", "rows", "inputType", "step", "orderable", "addable", "removable", "accept", "label"}
SHAPE_KEYWORDS = {
    "patternProperties": "按模式命名的属性（patternProperties）",
    "dependentSchemas": "依赖子 schema（dependentSchemas）",
    "prefixItems": "按位置定义的数组项（prefixItems）",
    "additionalItems": "额外数组项（additionalItems）",
    "unevaluatedProperties": "unevaluatedProperties",
    "unevaluatedItems": "unevaluatedItems",
    "$dynamicRef": "$dynamicRef",
}


class FormRefused(JiuzhuError):
    """The renderer cannot draw a form faithfully; ``errors`` lists each located reason."""

    kind = "invalid"
    default_code = "FORM_REFUSED"

    def __init__(self, source: str, errors: list[Problem]) -> None:
        first = errors[0]
        where = first.location.field or "/"
        more = f"等 {len(errors)} 处" if len(errors) > 1 else ""
        super().__init__(
            f"表单 {source} 无法显示{more}：{first.message}（位置 {where}）",
            location=Location(file=source, field=where),
        )
        self.errors = errors

    def problems(self) -> list[Problem]:
        return list(self.errors)


def compile_form(schema: Any, ui_schema: Any = None, *, source: str = "<表单>", ui_source: str | None = None) -> Form:
    """The drawable form, or :class:`FormRefused` naming every construct it cannot draw."""
    ref = FormRef(source, schema, ui_source, ui_schema if isinstance(ui_schema, dict) else None)
    return compile_ref(ref)


_cache: dict[int, tuple[FormRef, Form]] = {}


def compile_ref(ref: FormRef) -> Form:
    """:func:`compile_form` for the engine's :class:`FormRef` of a task, cached per ref."""
    hit = _cache.get(id(ref))
    if hit is not None and hit[0] is ref:
        return hit[1]
    compiler = _Compiler(ref)
    root = compiler.root()
    if compiler.problems:
        raise FormRefused(ref.schema_file, compiler.problems)
    form = Form(ref, root)
    if len(_cache) > 1024:
        _cache.clear()
    _cache[id(ref)] = (ref, form)
    return form


class _Compiler(LeafCompiler):
    def root(self) -> Field:
        if not isinstance(self.schema, dict):
            self.refuse("", "表单 schema 必须是 JSON 对象", code="FORM_SCHEMA_INVALID")
            return Field("object", None, "")
        for problem in check_form_schema(self.schema, location=Location()):
            field = problem.location.field
            self.refuse(f"/{field}" if field else "", problem.message, code=problem.code)
        if self.problems:
            return Field("object", None, "")
        ui = self.ref.ui_schema or {}
        if not isinstance(ui, dict):
            self.refuse("", "界面配置（uischema）必须是 JSON 对象", ui=True)
            ui = {}
        ui = {k: v for k, v in ui.items() if k not in ROOT_UI_KEYS}
        schema = self.resolve(self.schema, "")
        if schema.get("type", "object") != "object" or not isinstance(schema.get("properties"), dict):
            self.refuse("", "表单的最外层必须是带 properties 的对象（type: object）")
            return Field("object", None, "")
        return self.field(dict(schema, type="object"), ui, "", "", None, required=True, depth=0)

    # -- schema helpers ----------------------------------------------------------------------------

    def resolve(self, node: Any, pointer: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        """``node`` with a local ``$ref`` replaced by its target; keywords beside the ``$ref`` win."""
        if not isinstance(node, dict):
            return {}
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        if ref in seen:
            self.refuse(pointer, f"引用 {ref} 形成循环（递归结构），无法生成有限的表单")
            return {}
        target: Any = self.schema
        for part in ref.removeprefix("#").strip("/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            self.refuse(pointer, f"找不到引用 {ref} 指向的定义", code="FORM_SCHEMA_INVALID")
            return {}
        merged = dict(self.resolve(target, pointer, (*seen, ref)))
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return merged

    def check_ui(self, ui: Any, uiptr: str, children: set[str]) -> dict[str, Any]:
        if ui is None:
            return {}
        if not isinstance(ui, dict):
            self.refuse(uiptr, "界面配置项必须是 JSON 对象", ui=True)
            return {}
        for key in ui:
            if key.startswith("ui:"):
                if key not in UI_KEYS:
                    self.refuse(f"{uiptr}/{key}", f"不支持界面配置 {key}", ui=True)
            elif key not in children:
                self.refuse(f"{uiptr}/{key}", f"界面配置中的 {key} 在 schema 中没有对应的字段", ui=True)
        options = ui.get("ui:options", {})
        if not isinstance(options, dict):
            self.refuse(f"{uiptr}/ui:options", "ui:options 必须是对象", ui=True)
        else:
            for key in options.keys() - UI_OPTIONS:
                self.refuse(f"{uiptr}/ui:options/{key}", f"不支持界面选项 {key}", ui=True)
        return ui

    # -- fields ------------------------------------------------------------------------------------

    def field(self, raw: Any, ui: Any, ptr: str, uiptr: str, key: str | None, *, required: bool, depth: int) -> Field:
        ref = raw.get("$ref") if isinstance(raw, dict) else None
        if ref is None:
            return self._field(raw, ui, ptr, uiptr, key, required=required, depth=depth)
        if ref in self.refs:
            self.refuse(ptr, f"引用 {ref} 形成循环（递归结构），无法生成有限的表单")
            return Field("text", key, ptr)
        self.refs.append(ref)
        try:
            return self._field(raw, ui, ptr, uiptr, key, required=required, depth=depth)
        finally:
            self.refs.pop()

    def _field(self, raw: Any, ui: Any, ptr: str, uiptr: str, key: str | None, *, required: bool, depth: int) -> Field:
        schema = self.resolve(raw, ptr)
        kind = schema.get("type")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else _infer(schema)
        names = set(schema.get("properties") or {}) if kind == "object" else {"items"} if kind == "array" else set()
        ui = self.check_ui(ui, uiptr, names)
        options = ui.get("ui:options") if isinstance(ui.get("ui:options"), dict) else {}
        description = ui.get("ui:description", schema.get("description", ""))
        f = Field(
            "text", key, ptr,
            title=str(ui.get("ui:title", schema.get("title", key or ""))),
            description=str(description) if description else "",
            help=str(ui.get("ui:help", "")),
            placeholder=str(ui.get("ui:placeholder", "")),
            required=required,
            read_only=bool(schema.get("readOnly") or ui.get("ui:readonly")),
            default=copy.deepcopy(schema["default"]) if "default" in schema else MISSING,
            inline=bool(options.get("inline")),
            rows=options.get("rows") if isinstance(options.get("rows"), int) else None,
            autocomplete=ui.get("ui:autocomplete") if isinstance(ui.get("ui:autocomplete"), str) else None,
            autofocus=ui.get("ui:autofocus") is True,
            empty_value=copy.deepcopy(ui["ui:emptyValue"]) if "ui:emptyValue" in ui else MISSING,
            depth=depth,
        )  # fmt: skip
        for keyword, name in SHAPE_KEYWORDS.items():
            if keyword in schema:
                self.refuse(f"{ptr}/{keyword}", f"暂不支持{name}")
        if isinstance(kind, list):
            self.refuse(f"{ptr}/type", f"字段允许多种类型 {kind}，无法确定用哪种输入框")
            return f
        if "const" in schema and kind != "boolean":
            self.refuse(f"{ptr}/const", "固定值字段（const）不需要填写，无法作为输入项显示")
            return f
        if ATTACHMENT in schema:
            return self.attachment(f, schema, ptr)
        if schema.get("format") == "data-url":
            self.refuse(
                f"{ptr}/format",
                "format: data-url 会把整个文件写进任务数据；请改用 x-attachment（文件存入附件库，数据中只记 SHA-256）",
            )
            return f
        if kind == "object":
            return self.object(f, schema, ui, ptr, uiptr)
        if kind == "array":
            return self.array(f, schema, ui, ptr, uiptr, options)
        if kind in ("string", "number", "integer", "boolean"):
            return self.scalar(f, schema, ui, ptr, uiptr, kind, options)
        word = next((w for w in ("oneOf", "anyOf") if w in schema), None)
        if word:
            self.refuse(f"{ptr}/{word}", f"{word} 只支持 const 选项列表（每项 {{const, title}}）")
        else:
            self.refuse(ptr, "字段没有声明 type（string、number、integer、boolean、object 或 array）")
        return f

    def object(self, f: Field, schema: dict[str, Any], ui: dict[str, Any], ptr: str, uiptr: str) -> Field:
        f.kind, f.json_type = "object", "object"
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            self.refuse(ptr, "对象没有声明 properties，无法生成输入项")
            return f
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            self.refuse(f"{ptr}/additionalProperties", "可自由增加键的对象（additionalProperties 为 schema）暂不支持")
        for keyword in ("dependencies",):
            for trigger, dep in (schema.get(keyword) or {}).items():
                if isinstance(dep, dict):
                    self.refuse(f"{ptr}/{keyword}/{trigger}", "依赖子 schema（dependencies 的值为 schema）暂不支持")
        for index in non_conditional_all_of(schema):
            self.refuse(f"{ptr}/allOf/{index}", "allOf 只支持条件分支（if/then/else），不支持合并多个 schema")
        for name in ("anyOf", "oneOf"):
            if name in schema:
                self.refuse(f"{ptr}/{name}", f"对象的多选一结构（{name}）暂不支持")
        self.branch_properties(schema, ptr, set(properties))
        order = self.order(ui, uiptr, list(properties))
        required = set(schema.get("required") or [])
        gates = gates_of(schema, ptr)
        for name in order:
            child = self.field(
                properties[name], ui.get(name), f"{ptr}/properties/{name}", f"{uiptr}/{name}", name,
                required=name in required or name in gates, depth=f.depth,
            )  # fmt: skip
            child.gates = gates.get(name, [])
            f.children.append(child)
        return f

    def branch_properties(self, schema: dict[str, Any], ptr: str, declared: set[str]) -> None:
        parts = [("", schema)] + [(f"/allOf/{i}", p) for i, p in enumerate(schema.get("allOf") or [])]
        for at, part in parts:
            if not isinstance(part, dict):
                continue
            for branch in ("then", "else"):
                body = part.get(branch)
                if not isinstance(body, dict):
                    continue
                for name in set(body.get("properties") or {}) - declared:
                    self.refuse(
                        f"{ptr}{at}/{branch}/properties/{name}",
                        f"条件分支中新增的字段 {name} 暂不支持：请在 properties 中声明它，分支里只写 required",
                    )

    def order(self, ui: dict[str, Any], uiptr: str, names: list[str]) -> list[str]:
        order = ui.get("ui:order")
        if order is None:
            return names
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            self.refuse(f"{uiptr}/ui:order", "ui:order 必须是字段名的列表", ui=True)
            return names
        for name in order:
            if name != "*" and name not in names:
                self.refuse(f"{uiptr}/ui:order", f"ui:order 中的 {name} 在 schema 中没有对应的字段", ui=True)
        listed = [n for n in order if n in names]
        if len(set(listed)) != len(listed):
            self.refuse(f"{uiptr}/ui:order", "ui:order 中有重复的字段", ui=True)
        rest = [n for n in names if n not in listed]
        if "*" in order:
            at = order.index("*")
            before = [n for n in order[:at] if n in names]
            return before + rest + [n for n in order[at + 1 :] if n in names]
        return listed + rest  # an unlisted field is still drawn, after the listed ones

    def array(
        self, f: Field, schema: dict[str, Any], ui: dict[str, Any], ptr: str, uiptr: str, options: dict[str, Any]
    ) -> Field:
        f.kind, f.json_type = "array", "array"
        items = schema.get("items")
        if not isinstance(items, dict):
            what = "按位置定义的数组项（items 为列表）" if isinstance(items, list) else "没有声明 items 的数组"
            self.refuse(f"{ptr}/items", f"暂不支持{what}")
            return f
        item = self.resolve(items, f"{ptr}/items")
        choices = self.choices(item, f"{ptr}/items", item.get("type", "string"))
        widget = ui.get("ui:widget")
        if choices is not None and schema.get("uniqueItems"):
            if widget not in (None, *WIDGETS["array"]):
                self.refuse(f"{uiptr}/ui:widget", f"多选字段不支持控件 {widget}", ui=True)
            f.kind, f.options, f.multiple = "checkboxes", choices, widget == "select"
            f.json_type = item.get("type", "string")
            return f
        if widget is not None:
            self.refuse(
                f"{uiptr}/ui:widget", f"数组不支持控件 {widget}（只有唯一值的选项列表可用 checkboxes）", ui=True
            )
        f.addable = options.get("addable", True) is not False
        f.removable = options.get("removable", True) is not False
        f.item = self.field(
            items, ui.get("items"), f"{ptr}/items", f"{uiptr}/items", None, required=True, depth=f.depth + 1
        )
        if not f.item.title and f.title:
            f.item.title = f.title
        return f


def _infer(schema: dict[str, Any]) -> str | None:
    """The type of an untyped choice field from its values (``enum``, or ``oneOf`` of ``const``)."""
    values = schema.get("enum")
    if not isinstance(values, list):
        alternatives = schema.get("oneOf", schema.get("anyOf"))
        if not isinstance(alternatives, list) or not all(isinstance(a, dict) and "const" in a for a in alternatives):
            return None
        values = [a["const"] for a in alternatives]
    kinds = {"boolean" if isinstance(v, bool) else "string" if isinstance(v, str) else "number" for v in values}
    return kinds.pop() if len(kinds) == 1 else None


def validator_class(schema: Any) -> Any:
    return validator_for(schema, default=Draft7Validator)
