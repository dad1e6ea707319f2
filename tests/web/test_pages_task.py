"""The task page with the form renderer: engine field errors at their field,
drafts kept per task and user, the renderer's assets linked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.errors import FieldError, FormValidationError
from engine.service.facade import Engine
from tests.support.web_support import WebWorld, csrf_of, make_world


@pytest.fixture
def world(make_engine_for: Callable[..., Engine], db_url: str) -> WebWorld:
    return make_world(make_engine_for, db_url)


def test_engine_field_errors_come_back_at_their_field_with_values_kept(
    world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = world.start("qinghe.dongcheng.hepan")
    task = world.task_of(instance)
    client = world.signed_in("jb_dongcheng")
    page = client.get(f"/tasks/{task}")
    assert "/static/forms.css" in page.text and "/static/forms.js" in page.text
    refusal = FieldError("missing_materials", "BUSINESS_RULE", "补正材料须逐项列明")

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise FormValidationError([refusal])

    monkeypatch.setattr(world.engine, "complete_task", refuse)
    posted = {
        "csrf_token": csrf_of(page.text),
        "f/materials_complete": "false",
        "f/missing_materials": "户口本复印件",
    }
    bad = client.post(f"/tasks/{task}", data=posted)
    assert bad.status_code == 422
    assert 'id="jz-f-missing_materials-err"' in bad.text and "补正材料须逐项列明" in bad.text
    assert "户口本复印件" in bad.text
    assert world.engine.get(instance).ready[0].id == task


def test_a_draft_is_kept_for_its_user_and_discarded_on_completion(world: WebWorld) -> None:
    instance = world.start("qinghe.dongcheng.hepan")
    task = world.task_of(instance)
    client = world.signed_in("jb_dongcheng")
    token = csrf_of(client.get(f"/tasks/{task}").text)
    saved = client.post(
        f"/tasks/{task}", data={"csrf_token": token, "f/missing_materials": "草稿内容", "f:action": "draft"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/tasks/{task}"
    assert "草稿内容" in client.get(f"/tasks/{task}").text
    assert "草稿内容" not in world.signed_in("sh_dongcheng").get(f"/tasks/{task}").text
    assert world.engine.get(instance).ready[0].id == task  # a draft completes nothing
    done = client.post(f"/tasks/{task}", data={"csrf_token": token, "f/materials_complete": "true"})
    assert done.status_code == 303
    assert world.context.drafts is not None and world.context.drafts.load(task, "jb_dongcheng") is None
