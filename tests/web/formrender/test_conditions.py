"""Conditional fields: shown when their branch applies (server), with the clauses the browser toggles them by."""

from __future__ import annotations

import json
from typing import Any

import lxml.html

from jiuzhu.web.formrender import compile_form, parse_submission, render_form, validate
from jiuzhu.web.formrender.bind import Binder, Bound
from jiuzhu.web.formrender.model import Form
from tests.support.formpost import browser_post
from tests.support.formrender_forms import project_form


def visible(form: Form, data: dict[str, Any]) -> dict[str, bool]:
    """path → shown, for every gated field."""
    root = Binder(form, [], "f").bind(form.root, data, "", "f", "")
    out: dict[str, bool] = {}

    def walk(b: Bound, shown: bool) -> None:
        if b.field.gates:
            out[b.path] = shown and b.visible
        for c in [*b.children, *b.rows]:
            walk(c, shown and b.visible)

    walk(root, True)
    return out


def test_household_member_fields_follow_health_disability_and_counting() -> None:
    form = project_form("household")
    member = {"counted": True, "health": "健康", "disability": False}
    shown = visible(form, {"members": [member, {**member, "health": "重病", "disability_certificate": "x"}]})
    assert {k: v for k, v in shown.items() if k.startswith("members/")} == {
        "members/0/not_counted_reason": False, "members/0/illness": False, "members/0/disability_level": False,
        "members/1/not_counted_reason": False, "members/1/illness": True, "members/1/disability_level": True,
    }  # fmt: skip
    assert visible(form, {"apply_channel": "村居代办"})["agent_name"] is True
    assert visible(form, {"apply_channel": "窗口"})["agent_name"] is False
    assert visible(form, {"apply_channel": "窗口", "agent_name": "王五"})["agent_mobile"] is True


def test_fields_that_need_each_other_stay_visible() -> None:
    form = project_form("yijianshi-partner-result")
    report = next(c for c in form.root.children if c.key == "report")
    assert {c.key: bool(c.gates) for c in report.children if c.key in ("amount", "amount_unit")} == {
        "amount": False,
        "amount_unit": False,
    }


def test_then_and_else_branches() -> None:
    form = project_form("linshi-zhichu-investigate")
    assert visible(form, {"eligible": True}) == {"proposed_amount": True, "ineligible_reason": False}
    assert visible(form, {"eligible": False}) == {"proposed_amount": False, "ineligible_reason": True}
    html = render_form(form, {})
    specs = [json.loads(w) for w in lxml_attr(str(html), "data-jz-when")]
    assert specs == [
        [{"negate": False, "all": [{"key": "eligible", "values": ["true"], "required": True}]}],
        [{"negate": True, "all": [{"key": "eligible", "values": ["true"], "required": True}]}],
    ]


def test_a_hidden_branch_posts_nothing_so_a_not_required_else_holds() -> None:
    form = project_form("yijianshi-partner-sign")
    html = render_form(form, {"partner_action": "签收", "report": {"granted": True, "benefit": "电费减免"}})
    data = parse_submission(form, browser_post(html)).data
    assert data == {"partner_action": "签收"} and validate(form, data) == []


def test_conditions_the_browser_cannot_evaluate_are_left_to_the_server() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
        "if": {"properties": {"a": {"minimum": 10}}, "required": ["a"]},
        "then": {"required": ["b"]},
    }
    form = compile_form(schema)
    assert visible(form, {"a": 12}) == {"b": True} and visible(form, {"a": 3}) == {"b": False}
    assert lxml_attr(str(render_form(form, {"a": 12})), "data-jz-when") == [""]


def lxml_attr(html: str, name: str) -> list[str]:
    return lxml.html.fragment_fromstring(html, create_parent="div").xpath(f"//@{name}")
