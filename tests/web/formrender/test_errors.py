"""Field errors: the engine's Chinese messages, shown next to the right field, every typed value kept."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest

from engine.errors import FieldError
from jiuzhu.web.formrender import parse_submission, render_form, validate
from tests.support.formpost import browser_post
from tests.support.formrender_forms import project_form
from tests.support.households import APPLICANT_ID, CARD, bad_luhn, household, id_number, wrong_check

HOUSEHOLD = project_form("household")


def shown(html: str) -> dict[str, str]:
    """Each error paragraph's text, keyed by the name of the control it describes."""
    root = lxml.html.fragment_fromstring(str(html), create_parent="div")
    out = {}
    for p in root.find_class("jz-error"):
        target = root.xpath(f'//*[@id="{p.get("id").removesuffix("-err")}"]')
        control = target[0] if target[0].get("name") else target[0].find(".//input")
        out[control.get("name")] = p.text_content()
    return out


def post_and_check(edits: dict[str, Any]) -> tuple[str, dict[str, Any], list[FieldError]]:
    html = render_form(HOUSEHOLD, household(), full=True)
    sub = parse_submission(HOUSEHOLD, browser_post(html, edits=edits))
    errors = sub.errors + validate(HOUSEHOLD, sub.data)
    return str(render_form(HOUSEHOLD, sub.data, errors, submitted=True, full=True)), sub.data, errors


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            {"f/applicant/id_number": wrong_check(APPLICANT_ID)},
            {"f/applicant/id_number": "身份证号校验码不正确，请逐位核对"},
        ),
        (
            {"f/members/2/id_number": id_number("330106", "20130229", "371"), "f/members/2/birth_date": "2013-02-29"},
            {
                "f/members/2/id_number": "身份证号中的出生日期不存在（20130229）",
                "f/members/2/birth_date": "不是有效的日期（YYYY-MM-DD）",
            },
        ),
        (
            {"f/bank_account/card_number": bad_luhn(CARD)},
            {"f/bank_account/card_number": "银行卡号校验失败（Luhn），请核对卡号"},
        ),
        ({"f/members/1/monthly_income/transfer": "-280.35"}, {"f/members/1/monthly_income/transfer": "金额不能为负数"}),
        (
            {"f/members/0/birth_date": "1968-03-16"},
            {"f/members/0/birth_date": "出生日期与身份证号不一致（身份证号中为 1968-03-15）"},
        ),
    ],
)
def test_acceptance_errors_are_shown_at_their_field_with_every_value_kept(
    edits: dict[str, str], expected: dict[str, str]
) -> None:
    html, data, errors = post_and_check(edits)
    assert shown(html) == expected
    # Re-posting the redrawn page gives exactly what was typed, rows and all.
    assert parse_submission(HOUSEHOLD, browser_post(html)).data == data
    assert len(data["members"]) == 3 and data["applicant"]["name"] == "王建国"
    for name, value in edits.items():
        assert browser_post(html)[name] == [value]
    assert f"表单有 {len(errors)} 处需要修改" in html


def test_the_summary_links_each_error_to_its_field() -> None:
    html, _, _ = post_and_check({"f/bank_account/card_number": bad_luhn(CARD)})
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    [link] = root.xpath('//div[@class="jz-summary"]//a')
    assert link.get("href") == "#jz-f-bank_account-card_number"
    assert link.text_content() == "收款银行账户 · 银行卡号"
    assert root.xpath('//input[@id="jz-f-bank_account-card_number"]/@aria-invalid') == ["true"]


def test_required_fields_of_a_branch_are_shown_when_the_branch_applies() -> None:
    form = project_form("linshi-assess")
    html = render_form(form, {"decision": "先行救助", "assessment": "火灾，情况属实"}, full=True)
    sub = parse_submission(form, browser_post(html))
    errors = validate(form, sub.data)
    assert [(e.path, e.message) for e in errors] == [("relief_amount", "此项为必填")]
    assert shown(render_form(form, sub.data, errors, submitted=True)) == {"f/relief_amount": "此项为必填"}


def test_errors_without_a_drawn_field_still_appear_in_the_summary() -> None:
    form = project_form("sample-review")
    html = render_form(form, {}, [FieldError("", "FORM_INVALID", "整体不符合要求")], submitted=True)
    assert "表单：整体不符合要求" in lxml.html.fragment_fromstring(str(html), create_parent="div").text_content()
