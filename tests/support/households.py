"""A synthetic household for the 低保 forms: 身份证号 and bank card numbers with
correct check characters (computed here, independently of engine.forms.formats,
from GB 11643-1999 and the Luhn rule) and a filled-in household form."""

from __future__ import annotations

from typing import Any


def id_number(region: str, birth: str, sequence: str) -> str:
    """A synthetic 身份证号 with a correct GB 11643 (ISO 7064 MOD 11-2) check character."""
    body = region + birth + sequence
    assert len(body) == 17 and body.isdigit()
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    remainder = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
    return body + "10X98765432"[remainder]


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def luhn_card(prefix: str, length: int) -> str:
    """A synthetic card number of ``length`` digits with a correct Luhn check digit."""
    body = prefix + "0" * (length - 1 - len(prefix))
    for check in "0123456789":
        digits = [int(c) for c in reversed(body + check)]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def bad_luhn(card: str) -> str:
    return card[:-1] + str((int(card[-1]) + 1) % 10)


APPLICANT_ID = id_number("330106", "19680315", "123")  # sequence 12[3]: odd → 男
SPOUSE_ID = id_number("330106", "19700708", "246")  # even → 女
CHILD_ID = id_number("330106", "20120229", "371")  # a leap day; odd → 男
CARD = luhn_card("622202", 19)


def member(name: str, number: str, relationship: str, sex: str, birth: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name, "id_number": number, "relationship": relationship, "sex": sex, "birth_date": birth,
        "counted": True, "health": "健康", "disability": False, "work_ability": "有劳动能力", **extra,
    }  # fmt: skip


def household() -> dict[str, Any]:
    return {
        "assistance_type": "低保",
        "apply_channel": "窗口",
        "applicant": {
            "name": "王建国",
            "id_number": APPLICANT_ID,
            "sex": "男",
            "birth_date": "1968-03-15",
            "ethnicity": "汉族",
            "mobile": "13912345678",
            "registered_address": "浙江省杭州市西湖区某街道某社区",
        },
        "members": [
            member(
                "王建国",
                APPLICANT_ID,
                "本人",
                "男",
                "1968-03-15",
                health="慢性病",
                illness="糖尿病",
                work_ability="部分丧失劳动能力",
                employment="灵活就业",
                monthly_income={"wages": 1200, "business": 0, "transfer": 310.5},
            ),
            member(
                "李秀英",
                SPOUSE_ID,
                "配偶",
                "女",
                "1970-07-08",
                disability=True,
                disability_level="二级",
                disability_certificate=SPOUSE_ID + "42",
                work_ability="完全丧失劳动能力",
                monthly_income={"transfer": 280.35},
            ),
            member("王小明", CHILD_ID, "子女", "男", "2012-02-29", employment="在校学生", work_ability="有劳动能力"),
        ],
        "bank_account": {"bank_name": "某农村商业银行", "card_number": CARD, "account_holder": "王建国"},
    }
