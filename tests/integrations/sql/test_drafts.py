"""Drafts on SQLite and PostgreSQL: saved per task and user, replaced, loaded back, discarded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from engine.clock import FixedClock
from engine.ports import Draft
from integrations.sql import SqlStore
from integrations.sql.drafts import SqlDraftStore
from jiuzhu.web.formrender import parse_submission, render_form
from tests.support.formpost import browser_post
from tests.support.formrender_forms import project_form


def test_a_draft_is_kept_per_task_and_user(make_store: Callable[[], SqlStore], clock: FixedClock) -> None:
    drafts = SqlDraftStore(make_store().engine)
    assert drafts.load("t1", "jb_dongcheng") is None
    drafts.save(Draft("t1", "jb_dongcheng", {"note": "第一稿", "n": "十二"}, clock.now(), instance_id="i1"))
    drafts.save(Draft("t1", "sh_dongcheng", {"note": "别人的"}, clock.now()))
    later = clock.now() + timedelta(minutes=5)
    drafts.save(Draft("t1", "jb_dongcheng", {"note": "第二稿"}, later, instance_id="i1"))
    mine = drafts.load("t1", "jb_dongcheng")
    assert mine == Draft("t1", "jb_dongcheng", {"note": "第二稿"}, later, "i1")
    assert mine.saved_at.utcoffset() == timedelta(0)
    assert drafts.load("t1", "sh_dongcheng").data == {"note": "别人的"}  # type: ignore[union-attr]
    assert drafts.load("t2", "jb_dongcheng") is None
    drafts.discard("t1", "jb_dongcheng")
    assert drafts.load("t1", "jb_dongcheng") is None
    assert drafts.load("t1", "sh_dongcheng") is not None


def test_an_invalid_half_filled_form_is_saved_and_comes_back_as_typed(
    make_store: Callable[[], SqlStore], clock: FixedClock
) -> None:
    form = project_form("household")
    edits = {"f/applicant/name": "王", "f/applicant/id_number": "33010619680315123", "f/members/0/name": "王建国"}
    html = render_form(form, {"members": [{}]})
    sub = parse_submission(form, browser_post(html, edits=edits, submitter=("f:action", "draft")))
    assert sub.action.kind == "draft" and not sub.completes
    drafts = SqlDraftStore(make_store().engine)
    drafts.save(Draft("t9", "xl_yangliu", sub.data, clock.now()))
    loaded = drafts.load("t9", "xl_yangliu")
    assert loaded is not None and loaded.data == sub.data
    again = browser_post(render_form(form, loaded.data, submitted=True))
    for name, value in edits.items():
        assert again[name] == [value]
