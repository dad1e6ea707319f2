"""Every form under forms/ and the spiff corpus renders, or is refused with a located reason (pinned here)."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from jiuzhu.web.formrender import FormRefused, parse_submission, render_form
from tests.support.formpost import browser_post
from tests.support.formrender_forms import FORMS, SPIFF, compile_path, ui_path

PROJECT = sorted(FORMS.rglob("*-schema.json"))
CORPUS = sorted(SPIFF.glob("*-schema.json"))

# name → (file, JSON pointer, message) of the first reason; a change here is a change of behaviour.
REFUSED = {
    "yijianshi-start-schema.json": (
        "yijianshi-start-schema.json",
        "/properties/catalogue/items",
        "对象没有声明 properties，无法生成输入项",
    ),
    "epm__1-2-forms__test-schema.json": (
        "epm__1-2-forms__test-schema.json",
        "/properties/hatedFruit/anyOf/0",
        "表单使用了 spiff-arena 的非标准写法 options_from_task_data_var:fruits（从任务数据动态生成选项），"
        "本平台不支持；请在 schema 中用 enum 或 oneOf 写出固定选项",
    ),
}


def test_the_corpora_are_there() -> None:
    assert len(PROJECT) >= 26 and len(CORPUS) == 9
    assert {p.name for p in PROJECT + CORPUS} >= REFUSED.keys()


@pytest.mark.parametrize("path", PROJECT + CORPUS, ids=lambda p: p.name)
def test_every_form_renders_or_is_refused_with_a_located_reason(path: Path) -> None:
    if path.name in REFUSED:
        with pytest.raises(FormRefused) as caught:
            compile_path(path)
        first = caught.value.errors[0]
        assert (first.location.file, first.location.field, first.message) == REFUSED[path.name]
        assert path.name in caught.value.message and (first.location.field or "") in caught.value.message
        return
    form = compile_path(path)
    html = render_form(form, None, full=True, csrf_token="x")
    root = lxml.html.fragment_fromstring(str(html), create_parent="div")
    # Every top-level property is drawn (none silently dropped), each with a label or legend.
    names = {n.split("/")[1] for n in root.xpath("//@name") if n.startswith("f/")}
    declared = set(json.loads(path.read_text(encoding="utf-8"))["properties"])
    assert names == declared, f"not drawn: {declared - names}"
    if ui_path(path).exists():
        assert form.ref.ui_schema is not None
    parse_submission(form, browser_post(html))  # what a fresh form posts reads without error


def test_the_corpus_refusal_lists_every_reason_with_its_pointer() -> None:
    with pytest.raises(FormRefused) as caught:
        compile_path(SPIFF / "epm__1-2-forms__test-schema.json")
    assert [p.location.field for p in caught.value.errors] == [
        "/properties/hatedFruit/anyOf/0",
        "/properties/favoriteFruit/anyOf/0",
    ]
    assert {p.code for p in caught.value.errors} == {"FORM_DIALECT"}
    assert caught.value.kind == "invalid" and caught.value.code == "FORM_REFUSED"
