"""JSON-Schema forms: loading and checking them at deploy time, validating submissions.

Forms follow the spiff-arena convention (``formJsonSchemaFilename`` /
``formUiSchemaFilename`` on a user task). Schemas without ``$schema`` are read
as Draft 7, the draft RJSF and spiff-arena write. Validation messages are
Chinese, one per failing field, with stable codes the UI can key on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from jsonschema import Draft7Validator, FormatChecker  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]

from engine.datacopy import data_copy
from engine.errors import FieldError, FormValidationError, Location, Problem
from engine.forms.formats import register_formats
from engine.forms.keywords import check_form_keywords, with_form_keywords
from engine.forms.patterns import unsafe_reason
from engine.forms.problems import FormProblem


@dataclass(frozen=True)
class FormRef:
    schema_file: str
    schema: dict[str, Any]
    ui_schema_file: str | None
    ui_schema: dict[str, Any] | None


# The seam for custom formats: engine.forms.formats registers 身份证号 / 手机号 / 银行卡 / 金额
# here; a checker raising FormProblem chooses the field error's code and message.
FORMAT_CHECKER = FormatChecker()
register_formats(FORMAT_CHECKER)

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

if "date-time" not in FORMAT_CHECKER.checkers:  # jsonschema only ships it with rfc3339-validator installed

    @FORMAT_CHECKER.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _RFC3339.match(value):
            raise ValueError("not RFC 3339")
        datetime.fromisoformat(value.replace("z", "+00:00").replace("Z", "+00:00"))
        return True


DIALECT_KEYWORDS = {"minimumDate", "maximumDate"}  # spiff-arena constraints jsonschema would not enforce
_DIALECT_OPTIONS = "options_from_task_data_var:"

TYPE_ZH = {
    "string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否",
    "array": "列表", "object": "对象", "null": "空值",
}  # fmt: skip
FORMAT_ZH = {
    "date": "日期（YYYY-MM-DD）", "date-time": "日期时间", "time": "时间", "email": "电子邮箱地址",
    "uri": "网址", "ipv4": "IPv4 地址", "ipv6": "IPv6 地址", "uuid": "UUID", "regex": "正则表达式",
}  # fmt: skip


def load_form_json(name: str, content: bytes) -> tuple[Any, str | None]:
    """The parsed JSON, or None and a Chinese reason."""
    try:
        return json.loads(content.decode("utf-8-sig")), None
    except UnicodeDecodeError:
        return None, f"表单文件 {name} 不是 UTF-8 文本"
    except json.JSONDecodeError as exc:
        return None, f"表单文件 {name} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）"


def _nodes(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _nodes(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, (*path, str(index)))


def check_form_schema(schema: Any, *, location: Location) -> list[Problem]:
    if not isinstance(schema, dict):
        return [Problem("FORM_SCHEMA_INVALID", "表单 schema 必须是 JSON 对象", location)]
    problems: list[Problem] = []
    dialect_paths: list[tuple[str, ...]] = []
    for path, node in _nodes(schema):
        at = replace(location, field="/".join(path) or None)
        if isinstance(node, str) and node.startswith(_DIALECT_OPTIONS):
            dialect_paths.append(path[:-1])
            message = (
                f"表单使用了 spiff-arena 的非标准写法 {node}（从任务数据动态生成选项），本平台不支持；"
                "请在 schema 中用 enum 或 oneOf 写出固定选项"
            )
            problems.append(Problem("FORM_DIALECT", message, at))
        elif isinstance(node, dict):
            for keyword in DIALECT_KEYWORDS & node.keys():
                problems.append(Problem("FORM_DIALECT", f"不支持非标准关键字 {keyword}（不会被校验）", at))
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                problems.append(Problem("FORM_SCHEMA_INVALID", f"只允许引用表单内部的定义，不能引用 {ref}", at))
    problems += check_form_keywords(schema, location)
    cls = validator_for(schema, default=Draft7Validator)
    meta = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    for error in sorted(meta.iter_errors(schema), key=lambda e: "/".join(map(str, e.absolute_path))):
        path = tuple(map(str, error.absolute_path))
        if any(path[: len(p)] == p for p in dialect_paths):
            continue  # already explained as dialect
        at = replace(location, field="/".join(path) or None)
        problems.append(Problem("FORM_SCHEMA_INVALID", f"表单 schema 不是有效的 JSON Schema：{error.message}", at))
    return problems


def check_ui_schema(ui_schema: Any, *, location: Location) -> list[Problem]:
    if isinstance(ui_schema, dict):
        return []
    return [Problem("FORM_SCHEMA_INVALID", "表单界面配置（uischema）必须是 JSON 对象", location)]


def validate_submission(form: FormRef | None, data: Any, *, location: Location | None = None) -> dict[str, Any]:
    """A deep copy of ``data`` if it satisfies the form; FormValidationError otherwise.

    A submission may only write the fields its form declares: a task without
    a form takes no data, and keys a form does not list are refused unless
    the form says ``additionalProperties`` — otherwise an approver's form could
    quietly rewrite the applicant's data.
    """
    if data is None or (form is None and data == {}):
        data = {}
    if not isinstance(data, dict):
        raise FormValidationError([FieldError("", "FORM_TYPE", "表单数据必须是 JSON 对象")], location=location)
    errors: dict[str, FieldError] = {fe.path: fe for fe in non_finite(data) + control_characters(data)}
    if form is None:
        errors.update({key: FieldError(key, "FORM_UNKNOWN_FIELD", "此任务没有表单，不能提交数据") for key in data})
    else:
        if "additionalProperties" not in form.schema and isinstance(form.schema.get("properties"), dict):
            declared = form.schema["properties"]
            for key in data:
                if key not in declared:
                    errors.setdefault(key, FieldError(key, "FORM_UNKNOWN_FIELD", "表单中没有这一项"))
        if not errors:
            for error in _validator(form).iter_errors(data):
                for field_error in _field_errors(error):
                    errors.setdefault(field_error.path, field_error)
    if errors:
        raise FormValidationError(list(errors.values()), location=location)
    return data_copy(data)


def non_finite(data: Any, path: str = "") -> list[FieldError]:
    """NaN and infinities: JSON cannot carry them and comparisons lie about them."""
    if isinstance(data, float) and not math.isfinite(data):
        return [FieldError(path, "FORM_NUMBER", "数值无效：不能是 NaN 或无穷大")]
    if isinstance(data, dict):
        return [fe for key, value in data.items() for fe in non_finite(value, _join(path, key))]
    if isinstance(data, list):
        return [fe for i, value in enumerate(data) for fe in non_finite(value, _join(path, i))]
    return []


# Control characters but tab and line breaks: never typed by a person, they
# break exports (an xlsx cell refuses them) and hide text from reviewers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_characters(data: Any, path: str = "") -> list[FieldError]:
    if isinstance(data, str) and _CONTROL.search(data):
        return [FieldError(path, "FORM_CONTROL_CHARACTER", "含有不可见的控制字符，请删除后重新填写")]
    if isinstance(data, dict):
        return [fe for key, value in data.items() for fe in control_characters(value, _join(path, key))]
    if isinstance(data, list):
        return [fe for i, value in enumerate(data) for fe in control_characters(value, _join(path, i))]
    return []


_validators: dict[int, tuple[FormRef, Any]] = {}


def _validator(form: FormRef) -> Any:
    # Forms live as long as their cached process version; building a
    # validator per submission was a measurable share of a completion.
    cached = _validators.get(id(form))
    if cached is not None and cached[0] is form:
        return cached[1]
    cls = with_form_keywords(validator_for(form.schema, default=Draft7Validator))
    validator = cls(form.schema, format_checker=FORMAT_CHECKER)
    if len(_validators) > 1024:
        _validators.clear()
    _validators[id(form)] = (form, validator)
    return validator


def _join(path: str, key: object) -> str:
    return f"{path}/{key}" if path else str(key)


def _field_errors(error: ValidationError) -> list[FieldError]:
    path = "/".join(str(p) for p in error.absolute_path)
    keyword, value, instance = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if keyword == "required" and isinstance(instance, dict):
        return [FieldError(_join(path, p), "FORM_REQUIRED", "此项为必填") for p in value if p not in instance]
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        # A pattern that may backtrack without bound is never run (the validator already refused the object).
        patterns = [re.compile(p) for p in schema.get("patternProperties", {}) if not unsafe_reason(p)]
        extra = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
        return [FieldError(_join(path, k), "FORM_UNKNOWN_FIELD", "表单中没有这一项") for k in extra]
    if isinstance(error.cause, FormProblem):  # a platform format or keyword named the problem
        custom = schema.get("validationErrorMessage") if keyword == "format" else None
        return [FieldError(path, error.cause.code, str(custom) if custom else error.cause.message)]
    code, message = _describe(keyword, value, schema)
    return [FieldError(path, code, message)]


def _describe(keyword: Any, value: Any, schema: dict[str, Any]) -> tuple[str, str]:
    custom = schema.get("validationErrorMessage")
    if keyword == "type":
        names = value if isinstance(value, list) else [value]
        return "FORM_TYPE", f"类型不正确，应为{'或'.join(TYPE_ZH.get(n, str(n)) for n in names)}"
    ranges = {
        "minimum": "不能小于 {}", "maximum": "不能大于 {}", "exclusiveMinimum": "必须大于 {}",
        "exclusiveMaximum": "必须小于 {}", "multipleOf": "必须是 {} 的倍数",
    }  # fmt: skip
    if keyword in ranges:
        return "FORM_RANGE", ranges[keyword].format(value)
    if keyword == "minLength":
        return "FORM_LENGTH", f"至少需要 {value} 个字符"
    if keyword == "maxLength":
        return "FORM_LENGTH", f"最多 {value} 个字符"
    if keyword == "pattern":
        return "FORM_PATTERN", str(custom) if custom else "格式不正确"
    if keyword == "format":
        return "FORM_FORMAT", str(custom) if custom else f"不是有效的{FORMAT_ZH.get(value, str(value))}"
    if keyword in {"enum", "const"}:
        return "FORM_ENUM", "请从给定选项中选择"
    if keyword in {"oneOf", "anyOf"}:
        if all(isinstance(s, dict) and ("const" in s or "enum" in s) for s in value):
            return "FORM_ENUM", "请从给定选项中选择"
        return "FORM_INVALID", "不符合要求的格式"
    items = {"minItems": "至少需要 {} 项", "maxItems": "最多 {} 项", "uniqueItems": "不能有重复项"}
    if keyword in items:
        return "FORM_ITEMS", items[keyword].format(value)
    return "FORM_INVALID", "填写内容不符合要求"
