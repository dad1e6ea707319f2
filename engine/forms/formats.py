"""Custom formats for the forms of social assistance.

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
``type`` keyword reports those). A failure raises
:class:`~engine.forms.problems.FormProblem`, whose
stable ``code`` and Chinese ``message`` ``engine.forms.validate`` reports as-is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jsonschema import FormatChecker  # type: ignore[import-untyped]

from engine.forms.problems import FORM_BANK_CARD, FORM_ID_NUMBER, FORM_MOBILE, FORM_MONEY, FormProblem

SEXES = ("男", "女")


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
