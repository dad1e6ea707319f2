"""The platform's own JSON Schema keywords, checked at run time by
:func:`with_form_keywords` and at deploy time by :func:`check_form_keywords`.

Keyword ``x-idNumberConsistency`` on an object schema, e.g.
``{"idField": "id_number", "birthDateField": "birth_date", "sexField": "sex"}``:
the birth date encoded in the ID must equal the birth date field (``YYYY-MM-DD``)
and the sex digit must match the sex field (``男`` / ``女``). The error is
reported on the mismatching field. A value the format or the field's own
schema already refuses is left to them, so one mistake yields one message.

:func:`with_form_keywords` also reports ``dependentRequired`` (and the array
form of Draft 7 ``dependencies``) on each missing field, like ``required``,
instead of on the object.

Keyword ``x-attachment`` on an object schema, e.g. ``{"maxBytes": 5242880,
"accept": ["application/pdf", "image/*"]}``: the value is the reference the
web form stores for an uploaded file, ``{"sha256", "name", "mime", "size"}``
(the file itself lives in the attachment store under its SHA-256); its size
and type must be within the limits.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from jsonschema.validators import extend  # type: ignore[import-untyped]

from engine.errors import Location, Problem
from engine.forms.formats import SEXES, parse_cn_id_number
from engine.forms.household import HOUSEHOLD_CONSISTENCY, household_consistency, spec_problems
from engine.forms.patterns import unsafe_reason
from engine.forms.problems import FORM_ATTACHMENT, FORM_ID_MISMATCH, FORM_PATTERN_UNSAFE, FORM_REQUIRED, FormProblem

ATTACHMENT = "x-attachment"
ID_CONSISTENCY = "x-idNumberConsistency"


# -- keywords at run time -----------------------------------------------------------------------------


def _problem(field: str, code: str, message: str, value: Any) -> ValidationError:
    """An error on ``field`` of the object being validated, with its code and message as the cause."""
    return ValidationError(message, path=[field], cause=FormProblem(code, message), instance=value)


def _iso_date(value: object) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _id_number_consistency(validator: Any, spec: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    del schema
    if not validator.is_type(instance, "object") or not isinstance(spec, dict):
        return
    id_value = instance.get(spec.get("idField"))
    if not isinstance(id_value, str):
        return
    try:
        found = parse_cn_id_number(id_value)
    except FormProblem:
        return  # the field's format reports it; it may also be another document type
    birth_field = spec.get("birthDateField")
    if isinstance(birth_field, str) and birth_field in instance:
        given = _iso_date(instance[birth_field])
        if given is not None and given != found.birth_date:
            message = f"出生日期与身份证号不一致（身份证号中为 {found.birth_date.isoformat()}）"
            yield _problem(birth_field, FORM_ID_MISMATCH, message, instance[birth_field])
    sex_field = spec.get("sexField")
    if isinstance(sex_field, str) and sex_field in instance:
        given_sex = instance[sex_field]
        if given_sex in SEXES and given_sex != found.sex:
            message = f"性别与身份证号不一致（身份证号第 17 位表示{found.sex}）"
            yield _problem(sex_field, FORM_ID_MISMATCH, message, given_sex)


def _title(schema: Any, name: str) -> str:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    sub = properties.get(name) if isinstance(properties, dict) else None
    title = sub.get("title") if isinstance(sub, dict) else None
    return title if isinstance(title, str) and title else name


def _dependent_required(validator: Any, dependent: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for trigger, needed in dependent.items():
        if trigger not in instance:
            continue
        for each in needed:
            if each not in instance:
                yield _problem(each, FORM_REQUIRED, f"填写了「{_title(schema, trigger)}」时此项为必填", None)


def _dependencies(original: Callable[..., Iterator[ValidationError]]) -> Callable[..., Iterator[ValidationError]]:
    def dependencies(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        arrays = {k: v for k, v in value.items() if isinstance(v, list)}
        yield from _dependent_required(validator, arrays, instance, schema)
        yield from original(validator, {k: v for k, v in value.items() if k not in arrays}, instance, schema)

    return dependencies


# -- attachments --------------------------------------------------------------------------------------

_SHA256 = re.compile(r"[0-9a-f]{64}")


def attachment_spec(spec: Any) -> tuple[int | None, tuple[str, ...], list[str]]:
    """``maxBytes`` and ``accept`` of an ``x-attachment`` spec, and Chinese reasons if it is malformed."""
    if not isinstance(spec, dict):
        return None, (), [f'{ATTACHMENT} 必须是对象，例如 {{"maxBytes": 5242880, "accept": ["application/pdf"]}}']
    problems = [
        f"{ATTACHMENT} 不认识设置项 {k}（可用 maxBytes、accept）" for k in sorted(spec.keys() - {"maxBytes", "accept"})
    ]
    max_bytes = spec.get("maxBytes")
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0):
        problems.append(f"{ATTACHMENT} 的 maxBytes 必须是正整数（字节数）")
        max_bytes = None
    accept = spec.get("accept", [])
    if not isinstance(accept, list) or not all(isinstance(a, str) and "/" in a for a in accept):
        problems.append(f'{ATTACHMENT} 的 accept 必须是 MIME 类型列表，如 ["application/pdf", "image/*"]')
        accept = []
    return max_bytes, tuple(accept), problems


def mime_accepted(accept: tuple[str, ...], mime: str) -> bool:
    return not accept or any(a == mime or (a.endswith("/*") and mime.startswith(a[:-1])) for a in accept)


def _attachment(validator: Any, spec: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    del schema
    if not validator.is_type(instance, "object"):
        return  # the type keyword reports it
    max_bytes, accept, _ = attachment_spec(spec)
    sha, size, mime, name = (instance.get(k) for k in ("sha256", "size", "mime", "name"))
    if not (isinstance(sha, str) and _SHA256.fullmatch(sha) and isinstance(name, str) and isinstance(mime, str)):
        message = "附件引用无效（需要 sha256、name、mime、size），请重新上传"
    elif isinstance(size, bool) or not isinstance(size, int) or size < 0:
        message = "附件引用无效（size 必须是字节数），请重新上传"
    elif instance.keys() - {"sha256", "name", "mime", "size"}:
        message = "附件引用中有多余的项"
    elif max_bytes is not None and size > max_bytes:
        message = f"附件 {name} 超过 {max_bytes} 字节的上限"
    elif not mime_accepted(accept, mime):
        message = f"附件 {name} 的类型 {mime} 不在允许的类型（{'、'.join(accept)}）之内"
    else:
        return
    yield ValidationError(message, cause=FormProblem(FORM_ATTACHMENT, message), instance=instance)


def _patterns(keyword: str, value: Any, schema: Any) -> list[Any]:
    """The patterns a keyword runs: its own, or (``additionalProperties`` and
    ``unevaluatedProperties`` skip the names ``patternProperties`` matches) its neighbour's."""
    if keyword == "pattern":
        return [value]
    named = value if keyword == "patternProperties" else schema.get("patternProperties")
    return list(named) if isinstance(named, dict) else []


def _bounded(original: Callable[..., Iterator[ValidationError]], keyword: str) -> Callable[..., Any]:
    """A keyword that never runs a pattern :func:`unsafe_reason` refuses (in a form deployed
    before deploy refused them): the field gets an error instead of a worker held for minutes."""

    @functools.wraps(original)
    def check(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        patterns = _patterns(keyword, value, schema if isinstance(schema, dict) else {})
        reason = next((r for p in patterns if isinstance(p, str) and (r := unsafe_reason(p))), None)
        if reason is None:
            yield from original(validator, value, instance, schema)
        elif keyword in ("pattern", "patternProperties"):  # reported once, by the keyword holding it
            if validator.is_type(instance, "string" if keyword == "pattern" else "object"):
                message = f"此项的格式规则无法安全校验（{reason}），请联系流程设计员修改表单"
                yield ValidationError(message, cause=FormProblem(FORM_PATTERN_UNSAFE, message), instance=instance)

    return check


@functools.cache
def with_form_keywords(cls: Any) -> Any:
    """``cls`` (a jsonschema validator class) extended with the platform's keywords."""
    keywords: dict[str, Callable[..., Iterator[ValidationError]]] = {
        ID_CONSISTENCY: _id_number_consistency,
        ATTACHMENT: _attachment,
        HOUSEHOLD_CONSISTENCY: household_consistency,
    }
    if "dependentRequired" in cls.VALIDATORS:
        keywords["dependentRequired"] = _dependent_required
    for keyword in ("pattern", "patternProperties", "additionalProperties", "unevaluatedProperties"):
        if keyword in cls.VALIDATORS:
            keywords[keyword] = _bounded(cls.VALIDATORS[keyword], keyword)
    if "dependencies" in cls.VALIDATORS:
        keywords["dependencies"] = _dependencies(cls.VALIDATORS["dependencies"])
    return extend(cls, keywords)


# -- keywords at deploy time -------------------------------------------------------------------------

_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies")
_SCHEMA_ONE = (
    "items", "additionalItems", "additionalProperties", "contains", "propertyNames",
    "if", "then", "else", "not", "unevaluatedItems", "unevaluatedProperties",
)  # fmt: skip
_SCHEMA_LISTS = ("items", "prefixItems", "allOf", "anyOf", "oneOf")
_SPEC_KEYS = ("idField", "birthDateField", "sexField")


def _subschemas(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every schema object in ``node``, with its path (data under enum/const/default is not a schema)."""
    if not isinstance(node, dict):
        return
    yield path, node
    for keyword in _SCHEMA_MAPS:
        children = node.get(keyword)
        if isinstance(children, dict):
            for name, child in children.items():
                yield from _subschemas(child, (*path, keyword, str(name)))
    for keyword in _SCHEMA_ONE:
        yield from _subschemas(node.get(keyword), (*path, keyword))
    for keyword in _SCHEMA_LISTS:
        children = node.get(keyword)
        if isinstance(children, list):
            for index, child in enumerate(children):
                yield from _subschemas(child, (*path, keyword, str(index)))


def _spec_problems(node: dict[str, Any], spec: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    example = '{"idField": "id_number", "birthDateField": "birth_date", "sexField": "sex"}'
    if not isinstance(spec, dict):
        yield (), f"{ID_CONSISTENCY} 必须是对象，例如 {example}"
        return
    kind = node.get("type")
    if kind is not None and kind != "object" and not (isinstance(kind, list) and "object" in kind):
        yield (), f"{ID_CONSISTENCY} 只能用在 type 为 object 的 schema 上"
    for key in spec:
        if key not in _SPEC_KEYS:
            yield (str(key),), f"{ID_CONSISTENCY} 不认识设置项 {key}（可用 {'、'.join(_SPEC_KEYS)}）"
    if "idField" not in spec:
        yield (), f"{ID_CONSISTENCY} 缺少 idField（身份证号字段名）"
    if not ({"birthDateField", "sexField"} & spec.keys()):
        yield (), f"{ID_CONSISTENCY} 至少需要 birthDateField 或 sexField 之一"
    properties = node.get("properties")
    for key in _SPEC_KEYS:
        if key not in spec:
            continue
        name = spec[key]
        if not isinstance(name, str) or not name:
            yield (key,), f"{ID_CONSISTENCY} 的 {key} 必须是非空的字段名"
        elif isinstance(properties, dict) and name not in properties:
            yield (key,), f"{ID_CONSISTENCY} 的 {key} 引用的字段 {name} 不在同一层的 properties 中"


def check_form_keywords(schema: Any, location: Location) -> list[Problem]:
    """Located problems with the platform's own keywords in a form schema (deploy time)."""
    problems: list[Problem] = []
    for path, node in _subschemas(schema):
        if ATTACHMENT in node:
            for message in attachment_spec(node[ATTACHMENT])[2]:
                problems.append(
                    Problem("FORM_SCHEMA_INVALID", message, replace(location, field="/".join((*path, ATTACHMENT))))
                )
        if HOUSEHOLD_CONSISTENCY in node:
            for key, message in spec_problems(node[HOUSEHOLD_CONSISTENCY]):
                at = replace(location, field="/".join((*path, HOUSEHOLD_CONSISTENCY, *([key] if key else []))))
                problems.append(Problem("FORM_SCHEMA_INVALID", message, at))
        problems += _pattern_problems(node, path, location)
        if ID_CONSISTENCY not in node:
            continue
        for sub, message in _spec_problems(node, node[ID_CONSISTENCY]):
            at = replace(location, field="/".join((*path, ID_CONSISTENCY, *sub)))
            problems.append(Problem("FORM_SCHEMA_INVALID", message, at))
    return problems


def _pattern_problems(node: dict[str, Any], path: tuple[str, ...], location: Location) -> list[Problem]:
    found = []
    pattern = node.get("pattern")
    named = node.get("patternProperties")
    candidates: list[tuple[tuple[str, ...], str]] = [(("pattern",), pattern)] if isinstance(pattern, str) else []
    if isinstance(named, dict):
        candidates += [(("patternProperties", str(key)), str(key)) for key in named]
    for where, text in candidates:
        reason = unsafe_reason(text)
        if reason:
            at = replace(location, field="/".join((*path, *where)))
            found.append(Problem(FORM_PATTERN_UNSAFE, f"格式规则「{text}」不能使用：{reason}", at))
    return found
