"""Render → what the browser posts → parse_submission gives back the same typed data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jiuzhu.web.formrender import Action, apply_action, compile_form, parse_submission, render_form, validate
from tests.support.formpost import browser_post
from tests.support.formrender_forms import SPIFF, compile_path, project_form
from tests.support.households import CARD, household, id_number


def round_trip(form: Any, data: dict[str, Any], **post: Any) -> dict[str, Any]:
    html = render_form(form, data, full=True, csrf_token="t0k")
    posted = browser_post(html, **post)
    assert posted["csrf_token"] == ["t0k"]
    return parse_submission(form, posted).data


def test_household_with_members_income_and_conditional_fields_round_trips() -> None:
    form = project_form("household")
    data = household()
    data["apply_channel"] = "村居代办"
    data.update(agent_name="王小红", agent_id_number=id_number("330106", "19920101", "222"))
    data.update(agent_mobile="13812345678", agent_relationship="女儿")
    data["members"][2]["counted"] = False
    data["members"][2]["not_counted_reason"] = "其他"
    assert validate(form, data) == []
    assert round_trip(form, data) == data


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("linshi-payment", {
            "payment_mode": "现金", "paid_amount": 1500, "cash_channel": "转账", "receipt_signed": True,
            "bank_account": {"bank_name": "某农商银行", "card_number": CARD, "account_holder": "张三"},
        }),
        ("linshi-payment", {
            "payment_mode": "实物", "paid_amount": 320.5, "in_kind_items": "大米两袋", "receipt_signed": False,
        }),
        ("linshi-paperwork", {
            "situation_statement": "火灾后先行救助，已发放两千元。", "confirmed_amount": 2000.01,
            "caseworker_signature": "李四", "approver_signature": "王五", "seal_affixed": True,
            "materials": ["救助对象身份证明", "现场照片"],
        }),
        ("yishiyiyi-convene", {
            "meeting_date": "2026-11-20", "meeting_chair": "赵局长", "member_units_total": 12,
            "attending_units": ["县财政局", "县人力资源和社会保障局", "县医疗保障局"],
            "quorum_rule": "不少于规定数量的成员单位出席", "quorum_min_units": 7, "decision_rule": "出席单位过半数同意",
        }),
        ("yishiyiyi-minutes-approve", {
            "minutes_number": "某县困保协调纪要〔2026〕3号", "decided_amount": 6000, "payment_mode": "分阶段发放",
            "stage_count": 2, "payment_stages": [
                {"period": 1, "pay_month": "2026-12", "amount": 3000},
                {"period": 2, "pay_month": "2027-01", "amount": 3000},
            ],
            "decision_note": "分两期发放。\n每期三千元。",
        }),
        ("yijianshi-partner-sign", {
            "partner_action": "办结反馈",
            "report": {
                "granted": True, "benefit": "电费减免", "amount": 10, "amount_unit": "元/月",
                "effective_from": "2026-12-01",
            },
        }),
        ("yijianshi-review", {"selected_items": ["dibao", "dianfei", "youxian"], "adjust_reason": "增加有线电视"}),
        ("linshi-zhichu-investigate", {"investigators": ["张三", "李四"], "findings": "入户核实属实", "eligible": False,
                                       "ineligible_reason": "家庭收入超过标准"}),
    ],
)  # fmt: skip
def test_project_forms_round_trip(name: str, data: dict[str, Any]) -> None:
    form = project_form(name)
    assert validate(form, data) == []
    assert round_trip(form, data) == data


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("spiffarena__json_schema_examples__nested", {
            "tasks": [{"title": "买菜", "done": True}, {"title": "做饭", "done": False}],
        }),
        ("epm__0-2-basic-example__norris", {"pushups": True, "thanos": False, "bulletproof": True}),
        ("epm__1-6-roles__your-favorite-vacation-spot", {"location": "Spain", "season": "Fall", "activites": "hiking"}),
        ("epm__2-3-sub-processes__payment-mode", {"pay_on_delivery": False, "pay_online": True}),
    ],
)  # fmt: skip
def test_corpus_forms_round_trip(name: str, data: dict[str, Any]) -> None:
    form = compile_path(SPIFF / f"{name}-schema.json")
    assert validate(form, data) == []
    assert round_trip(form, data) == data


def test_defaults_fill_a_fresh_form_only() -> None:
    form = project_form("household")
    fresh = parse_submission(form, browser_post(render_form(form, None))).data
    assert fresh["apply_channel"] == "窗口"
    # After a post the user's choice stands even where the schema has a default.
    posted = browser_post(render_form(form, {"assistance_type": "低保"}, submitted=True))
    assert "apply_channel" not in parse_submission(form, posted).data


def test_what_people_type_is_read_as_the_formats_expect() -> None:
    form = project_form("household")
    html = render_form(form, household())
    edits = {"f/bank_account/card_number": " ".join(CARD[i : i + 4] for i in range(0, len(CARD), 4))}
    edits["f/members/0/monthly_income/wages"] = "１,２００.５０"  # full-width digits and a thousands separator
    data = parse_submission(form, browser_post(html, edits=edits)).data
    assert data["bank_account"]["card_number"] == CARD
    assert data["members"][0]["monthly_income"]["wages"] == 1200.5


def test_unparsable_numbers_are_kept_as_typed_and_refused_by_the_validator() -> None:
    form = project_form("yishiyiyi-convene")
    html = render_form(form, {"member_units_total": 3})
    data = parse_submission(form, browser_post(html, edits={"f/member_units_total": "十二"})).data
    assert data["member_units_total"] == "十二"
    [error] = [e for e in validate(form, data) if e.path == "member_units_total"]
    assert error.message == "类型不正确，应为整数"
    assert 'value="十二"' in render_form(form, data, [error], submitted=True)


def test_rows_added_and_removed_without_javascript() -> None:
    form = project_form("household")
    data = household()
    html = render_form(form, data)
    added = parse_submission(form, browser_post(html, submitter=("f:action", "add:members")))
    assert added.action == Action("add", "members") and not added.completes
    grown = apply_action(form, added.data, added.action)
    assert len(grown["members"]) == 4
    assert grown["members"][3] == {"counted": True, "disability": False}  # the item's defaults
    html = render_form(form, grown, submitted=True)
    assert 'name="f/members/3/name"' in html
    removed = parse_submission(form, browser_post(html, submitter=("f:action", "remove:members/1")))
    shrunk = apply_action(form, removed.data, removed.action)
    assert [m.get("name") for m in shrunk["members"]] == ["王建国", "王小明", None]


def test_rows_removed_in_the_browser_leave_no_gap() -> None:
    form = project_form("yishiyiyi-convene")
    html = render_form(form, {"attending_units": ["县财政局", "县民政局", "县医保局"]})
    posted = browser_post(html)
    posted["f/attending_units/@"].remove("1")  # the script removed the second row
    del posted["f/attending_units/1"]
    assert parse_submission(form, posted).data["attending_units"] == ["县财政局", "县医保局"]


def test_an_emptied_list_reads_as_empty_and_blank_lines_are_no_entries() -> None:
    form = project_form("linshi-zhichu-investigate")
    html = render_form(form, {"investigators": ["张三", "李四"]})
    posted = browser_post(html, edits={"f/investigators/1": "  "})
    assert parse_submission(form, posted).data["investigators"] == ["张三"]
    posted = browser_post(render_form(form, {"investigators": []}))
    assert parse_submission(form, posted).data["investigators"] == []


def test_hidden_conditional_fields_are_not_posted() -> None:
    form = project_form("linshi-assess")
    html = render_form(form, {"decision": "不予救助", "relief_amount": 300})
    assert 'hidden disabled><div class="jz-field">\n<label for="jz-f-relief_amount">' in html
    data = parse_submission(form, browser_post(html)).data
    assert "relief_amount" not in data and data["decision"] == "不予救助"


def test_read_only_fields_come_from_the_task_not_the_post() -> None:
    schema = {"type": "object", "properties": {
        "case_no": {"type": "string", "title": "案件编号", "readOnly": True},
        "note": {"type": "string", "title": "备注"},
    }}  # fmt: skip
    form = compile_form(schema, source="ro-schema.json")
    html = render_form(form, {"case_no": "QH-2026-001", "note": "无"})
    assert 'name="f/case_no"' not in html and "QH-2026-001" in html
    posted = browser_post(html)
    posted["f/case_no"] = ["forged"]
    assert parse_submission(form, posted, current={"case_no": "QH-2026-001"}).data == {
        "case_no": "QH-2026-001",
        "note": "无",
    }


def test_field_prefix_keeps_two_forms_apart() -> None:
    form = project_form("sample-review")
    html = render_form(form, {"materials_complete": True, "review_note": "齐全"}, field_prefix="task1")
    assert 'name="task1/review_note"' in html
    assert parse_submission(form, browser_post(html), field_prefix="task1").data == {
        "materials_complete": True,
        "review_note": "齐全",
    }
    assert json.loads(json.dumps(parse_submission(form, browser_post(html), field_prefix="other").data)) == {}
