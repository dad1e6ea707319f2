"""The task page's two calls: show_form and handle_post."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import FieldError
from engine.forms.validate import FormRef
from engine.ports import Draft
from integrations.attachments_fs import FileAttachmentStore
from jiuzhu.web.formrender import Action, handle_post, show_form
from tests.support.formpost import browser_post
from tests.support.formrender_forms import FORMS
from tests.support.households import APPLICANT_ID, household, wrong_check

HOUSEHOLD = FormRef(
    "household-schema.json",
    json.loads((FORMS / "common" / "household-schema.json").read_text(encoding="utf-8")),
    "household-uischema.json",
    json.loads((FORMS / "common" / "household-uischema.json").read_text(encoding="utf-8")),
)
START = FormRef(
    "yijianshi-start-schema.json",
    json.loads((FORMS / "yijianshi" / "yijianshi-start-schema.json").read_text(encoding="utf-8")),
    None,
    None,
)


def test_show_form_fills_from_the_task_or_from_the_draft() -> None:
    html = show_form(HOUSEHOLD, household(), csrf_token="tok", action="/tasks/t1")
    assert '<form class="jz-form" method="post" action="/tasks/t1"' in html
    assert 'name="csrf_token" value="tok"' in html and 'value="王建国"' in html
    draft = Draft("t1", "jb", {"applicant": {"name": "草稿里的名字"}}, datetime(2026, 11, 2, tzinfo=UTC))
    html = show_form(HOUSEHOLD, household(), draft=draft)
    assert 'value="草稿里的名字"' in html and 'value="王建国"' not in html
    assert 'value="窗口" checked' not in html  # a draft is what was typed: no defaults added back


def test_show_form_explains_a_form_it_cannot_draw() -> None:
    html = show_form(START, {})
    assert "<form" not in html and "yijianshi-start-schema.json" in html and "/properties/catalogue/items" in html


def test_handle_post_completes_only_a_valid_submit(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    posted = browser_post(show_form(HOUSEHOLD, household()), submitter=("f:action", "submit"))
    out = handle_post(HOUSEHOLD, posted, attachments=store)
    assert out.complete and out.errors == [] and out.data == household()

    posted["f/applicant/id_number"] = [wrong_check(APPLICANT_ID)]
    out = handle_post(HOUSEHOLD, posted, attachments=store, csrf_token="tok")
    assert not out.complete and [e.path for e in out.errors] == ["applicant/id_number"]
    assert "身份证号校验码不正确" in out.html and 'name="csrf_token" value="tok"' in out.html

    out = handle_post(HOUSEHOLD, {**posted, "f:action": ["draft"]}, attachments=store)
    assert out.save_draft and not out.complete and out.errors == []  # a draft is not validated
    assert out.data["applicant"]["id_number"] == wrong_check(APPLICANT_ID)


def test_handle_post_changes_rows_without_completing_and_takes_page_errors(tmp_path: Path) -> None:
    posted = browser_post(show_form(HOUSEHOLD, household()), submitter=("f:action", "add:members"))
    out = handle_post(HOUSEHOLD, posted, attachments=None)
    assert out.action == Action("add", "members") and not out.complete and len(out.data["members"]) == 4
    assert 'name="f/members/3/name"' in out.html and "jz-summary" not in out.html
    extra = [FieldError("bank_account/account_holder", "PAGE", "户名须为家庭成员")]
    out = handle_post(HOUSEHOLD, browser_post(show_form(HOUSEHOLD, household())), attachments=None, extra_errors=extra)
    assert not out.complete and "户名须为家庭成员" in out.html
