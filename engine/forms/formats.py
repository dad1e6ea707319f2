"""Custom formats and keywords for the forms of social assistance.

Formats (registered on ``engine.forms.validate.FORMAT_CHECKER`` by :func:`register_formats`):

``cn-id-number``
    居民身份证号 per GB 11643-1999: 6-digit address code (not ``000000``),
    8-digit birth date that exists in the calendar, 3-digit sequence (odd =
    男, even = 女) and an ISO 7064 MOD 11-2 check character; ``X`` only in
    upper case. The engine never reads the wall clock, so a birth date "in
    the future" is not refused here; tie the number to the form's own birth
    date field with ``x-idNumberConsistency`` instead.
``cn-mobile``
    11 ASCII digits, ``1[3-9]`` then 9 digits.
``bank-card``
    12–19 ASCII digits (no spaces: the UI strips them) passing the Luhn check.
    Some cards are not Luhn-valid; a form that must take them leaves the
    format off and uses a ``pattern``.
``money``
    Yuan, for JSON numbers or numeric strings in plain notation
    (``"1234.50"``; no sign other than ``-``, no exponent, no separators):
    not negative and a whole number of fen, i.e. at most two decimals once
    trailing zeros are dropped (``1.500`` passes, ``0.1 + 0.2`` read as the
    float ``0.30000000000000004`` does not). Floats are read through
    ``Decimal(str(value))``, the shortest repr, so ``0.3`` is ``0.3``.

Like the standard formats, each one ignores values of other JSON types (the
``type`` keyword reports those). A failure raises :class:`FormProblem`, whose
stable ``code`` and Chinese ``message`` ``engine.forms.validate`` reports as-is.

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
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from jsonschema import FormatChecker  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from jsonschema.validators import extend  # type: ignore[import-untyped]

from engine.errors import Location, Problem

FORM_ID_NUMBER = "FORM_ID_NUMBER"
FORM_MOBILE = "FORM_MOBILE"
FORM_BANK_CARD = "FORM_BANK_CARD"
FORM_MONEY = "FORM_MONEY"
FORM_ID_MISMATCH = "FORM_ID_MISMATCH"
FORM_REQUIRED = "FORM_REQUIRED"
FORM_ATTACHMENT = "FORM_ATTACHMENT"
ATTACHMENT = "x-attachment"

ID_CONSISTENCY = "x-idNumberConsistency"
SEXES = ("男", "女")


class FormProblem(ValueError):
    """A failed check that knows its stable code and Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- 身份证号 -------------------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS17 = re.compile(r"[0-9]{17}")


@dataclass(frozen=True)
class IdNumber:
    region: str
    birth_date: date
    sex: str  # 男 / 女


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    if not _DIGITS17.fullmatch(first17):
        raise ValueError("need exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_cn_id_number(value: str) -> IdNumber:
    """The parts of a valid 身份证号; FormProblem naming the first thing wrong otherwise."""
    if len(value) != 18:
        raise FormProblem(FORM_ID_NUMBER, f"身份证号应为 18 位（现为 {len(value)} 位）")
    if value.endswith("x") and _DIGITS17.fullmatch(value[:17]):
        raise FormProblem(FORM_ID_NUMBER, "身份证号末位的 X 应为大写")
    if not _ID_SHAPE.fullmatch(value):
        raise FormProblem(FORM_ID_NUMBER, "身份证号前 17 位应为数字，末位为数字或大写 X")
    if value[:6] == "000000":
        raise FormProblem(FORM_ID_NUMBER, "身份证号中的地址码（前 6 位）不正确")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise FormProblem(FORM_ID_NUMBER, f"身份证号中的出生日期不存在（{value[6:14]}）") from None
    if value[17] != id_number_check_char(value[:17]):
        raise FormProblem(FORM_ID_NUMBER, "身份证号校验码不正确，请逐位核对")
    return IdNumber(value[:6], born, SEXES[0] if int(value[16]) % 2 else SEXES[1])


def check_cn_id_number(value: object) -> bool:
    if isinstance(value, str):
        parse_cn_id_number(value)
    return True


# -- 手机号, 银行卡号, 金额 -------------------------------------------------------------------------------

_MOBILE_DIGITS = re.compile(r"[0-9]{11}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_CARD = re.compile(r"[0-9]{12,19}")
_MONEY_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def check_cn_mobile(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _MOBILE_DIGITS.fullmatch(value):
        raise FormProblem(FORM_MOBILE, "手机号应为 11 位数字")
    if not _MOBILE.fullmatch(value):
        raise FormProblem(FORM_MOBILE, "手机号号段不正确（应以 13–19 开头）")
    return True


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def check_bank_card(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _CARD.fullmatch(value):
        raise FormProblem(FORM_BANK_CARD, "银行卡号应为 12–19 位数字")
    if not luhn_valid(value):
        raise FormProblem(FORM_BANK_CARD, "银行卡号校验失败（Luhn），请核对卡号")
    return True


def _money_decimal(value: object) -> Decimal | None:
    """The amount as a Decimal, None for types the format ignores."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FormProblem(FORM_MONEY, "金额不是有效的数字")
        return Decimal(str(value))
    if isinstance(value, str):
        if not _MONEY_TEXT.fullmatch(value):
            raise FormProblem(FORM_MONEY, "金额应为数字，如 1234.50")
        return Decimal(value)
    return None


def _decimal_places(amount: Decimal) -> int:
    """Digits after the point once trailing zeros are dropped (exact, no context rounding)."""
    _sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite
    places = -exponent
    trimmed = list(digits)
    while places > 0 and trimmed and trimmed[-1] == 0:
        trimmed.pop()
        places -= 1
    return max(places, 0)


def check_money(value: object) -> bool:
    amount = _money_decimal(value)
    if amount is None:
        return True
    if amount < 0:
        raise FormProblem(FORM_MONEY, "金额不能为负数")
    if _decimal_places(amount) > 2:
        raise FormProblem(FORM_MONEY, "金额最多两位小数")
    return True


FORMATS: dict[str, Callable[[object], bool]] = {
    "cn-id-number": check_cn_id_number,
    "cn-mobile": check_cn_mobile,
    "bank-card": check_bank_card,
    "money": check_money,
}


def register_formats(checker: FormatChecker) -> None:
    for name, check in FORMATS.items():
        checker.checks(name, raises=FormProblem)(check)


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


@functools.cache
def with_form_keywords(cls: Any) -> Any:
    """``cls`` (a jsonschema validator class) extended with the platform's keywords."""
    from engine.forms.household import HOUSEHOLD_CONSISTENCY, household_consistency

    keywords: dict[str, Callable[..., Iterator[ValidationError]]] = {
        ID_CONSISTENCY: _id_number_consistency,
        ATTACHMENT: _attachment,
        HOUSEHOLD_CONSISTENCY: household_consistency,
    }
    if "dependentRequired" in cls.VALIDATORS:
        keywords["dependentRequired"] = _dependent_required
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
    from engine.forms.household import HOUSEHOLD_CONSISTENCY, spec_problems

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
        if ID_CONSISTENCY not in node:
            continue
        for sub, message in _spec_problems(node, node[ID_CONSISTENCY]):
            at = replace(location, field="/".join((*path, ID_CONSISTENCY, *sub)))
            problems.append(Problem("FORM_SCHEMA_INVALID", message, at))
    return problems
