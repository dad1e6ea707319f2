"""Attachments: stored under their SHA-256, limits from the schema, the reference kept across a re-render."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from engine.errors import FormValidationError, Location
from engine.forms.validate import FormRef, check_form_schema, validate_submission
from integrations.attachments_fs import FileAttachmentStore
from jiuzhu.web.formrender import Upload, parse_submission, render_form, validate
from tests.conftest import FIXTURES
from tests.support.formpost import browser_post
from tests.support.formrender_forms import compile_path

DEMO = FIXTURES / "formrender" / "demo-schema.json"
PDF = b"%PDF-1.7\n" + b"x" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
VALID = {"applicant_name": "张三", "income_source": "无固定收入", "members": [{"name": "张三", "relationship": "本人"}]}


@pytest.fixture
def store(tmp_path: Path) -> FileAttachmentStore:
    return FileAttachmentStore(tmp_path / "attachments")


def post_with(html: str, upload: Upload | None, **extra: Any) -> dict[str, list[Any]]:
    posted: dict[str, list[Any]] = browser_post(html, **extra)
    if upload is not None:
        posted["f/proof/@file"] = [upload]
    return posted


def test_an_upload_is_stored_under_its_hash_and_referenced_in_the_data(store: FileAttachmentStore) -> None:
    form = compile_path(DEMO)
    html = render_form(form, VALID, full=True)
    assert 'enctype="multipart/form-data"' in html and 'accept="application/pdf,image/*"' in html
    sub = parse_submission(
        form, post_with(html, Upload("C:\\材料\\收入证明.pdf", "application/pdf", PDF)), attachments=store
    )
    digest = hashlib.sha256(PDF).hexdigest()
    assert sub.errors == [] and sub.data["proof"] == {
        "sha256": digest, "name": "收入证明.pdf", "mime": "application/pdf", "size": len(PDF),
    }  # fmt: skip
    assert store.get(digest) == PDF and store.exists(digest)
    assert (store.root / digest[:2] / digest).is_file()
    assert validate(form, sub.data) == []


def test_the_reference_survives_an_error_re_render_and_a_new_file_replaces_it(store: FileAttachmentStore) -> None:
    form = compile_path(DEMO)
    first = parse_submission(
        form, post_with(render_form(form, {**VALID, "applicant_name": "张"}), Upload("a.pdf", "application/pdf", PDF)),
        attachments=store,
    )  # fmt: skip
    errors = validate(form, first.data)
    assert [e.path for e in errors] == ["applicant_name"]
    html = render_form(form, first.data, errors, submitted=True)
    assert "a.pdf" in html and "SHA-256 " + first.data["proof"]["sha256"][:12] in html
    again = parse_submission(form, post_with(html, None), attachments=store)
    assert again.data["proof"] == first.data["proof"]  # nothing re-uploaded, nothing lost
    replaced = parse_submission(form, post_with(html, Upload("b.png", "image/png", PNG)), attachments=store)
    assert replaced.data["proof"]["name"] == "b.png" and replaced.data["proof"]["mime"] == "image/png"
    removed = parse_submission(form, post_with(html, None, edits={"f/proof/@remove": "1"}), attachments=store)
    assert "proof" not in removed.data


def test_a_forged_reference_to_a_file_that_is_not_stored_is_dropped(store: FileAttachmentStore) -> None:
    form = compile_path(DEMO)
    posted = browser_post(render_form(form, VALID))
    posted["f/proof"] = ['{"sha256": "' + "0" * 64 + '", "name": "x.pdf", "mime": "application/pdf", "size": 1}']
    assert "proof" not in parse_submission(form, posted, attachments=store).data


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            Upload("big.pdf", "application/pdf", b"%PDF-" + b"x" * (1024 * 1024)),
            "文件 big.pdf 太大（1,048,581 字节），不能超过 1 MB",
        ),
        (
            Upload("a.exe", "application/x-msdownload", b"MZ\x90\0"),
            "文件 a.exe 的类型 application/x-msdownload 不在允许的类型",
        ),
        (Upload("fake.pdf", "application/pdf", b"MZ\x90\0 not a pdf"), None),
        (Upload("empty.pdf", "application/pdf", b""), "文件 empty.pdf 是空文件"),
    ],
)
def test_files_outside_the_limits_are_refused_at_the_field(
    store: FileAttachmentStore, upload: Upload, message: str | None
) -> None:
    form = compile_path(DEMO)
    sub = parse_submission(form, post_with(render_form(form, VALID), upload), attachments=store)
    [error] = sub.errors
    assert error.path == "proof" and error.code == "FORM_ATTACHMENT"
    if message is None:  # claimed to be a PDF, but the content says otherwise: the declared type is not trusted
        assert "的类型 application/octet-stream 不在允许的类型" in error.message
    else:
        assert error.message.startswith(message)
    assert "proof" not in sub.data and list((store.root).glob("*/*")) == []
    assert error.message in render_form(form, sub.data, sub.errors, submitted=True)


def test_a_default_size_limit_applies_when_the_field_names_none(store: FileAttachmentStore) -> None:
    form = compile_path(DEMO)
    form.root.children[-1].max_bytes = None
    sub = parse_submission(form, post_with(render_form(form, VALID), Upload("a.pdf", "application/pdf", PDF)),
                           attachments=store, max_bytes=1000)  # fmt: skip
    assert sub.errors[0].message.startswith("文件 a.pdf 太大")


def test_the_engine_checks_the_reference_too() -> None:
    schema = {
        "type": "object",
        "properties": {"proof": {"type": "object", "x-attachment": {"maxBytes": 10, "accept": ["image/*"]}}},
    }
    ref = FormRef("s.json", schema, None, None)
    good = {"sha256": "a" * 64, "name": "p.png", "mime": "image/png", "size": 10}
    assert validate_submission(ref, {"proof": good}) == {"proof": good}
    for bad, words in [
        ({**good, "size": 11}, "超过 10 字节"),
        ({**good, "mime": "application/pdf"}, "不在允许的类型"),
        ({**good, "sha256": "xyz"}, "附件引用无效"),
        ({**good, "extra": 1}, "多余"),
    ]:
        with pytest.raises(FormValidationError) as caught:
            validate_submission(ref, {"proof": bad})
        [error] = caught.value.field_errors
        assert (error.path, error.code) == ("proof", "FORM_ATTACHMENT") and words in error.message
    bad_spec = {"type": "object", "properties": {"p": {"type": "object", "x-attachment": {"maxBytes": "1MB"}}}}
    [problem] = check_form_schema(bad_spec, location=Location("f.json"))
    assert problem.location.field == "properties/p/x-attachment" and "maxBytes" in problem.message


def test_the_file_store_writes_once_and_refuses_bad_names(store: FileAttachmentStore) -> None:
    digest = store.put(PDF)
    assert store.put(PDF) == digest and len(list(store.root.rglob("*"))) == 2  # one folder, one file
    assert not store.exists("../etc/passwd")
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")


def test_starlette_form_data_with_an_upload_file(store: FileAttachmentStore) -> None:
    import io

    from starlette.datastructures import FormData, Headers, UploadFile

    form = compile_path(DEMO)
    pairs: list[tuple[str, Any]] = [(k, v) for k, vs in browser_post(render_form(form, VALID)).items() for v in vs]
    upload = UploadFile(io.BytesIO(PNG), filename="照片.png", headers=Headers({"content-type": "image/png"}))
    empty = UploadFile(io.BytesIO(b""), filename="", headers=Headers({"content-type": "application/octet-stream"}))
    sub = parse_submission(
        form, FormData([*pairs, ("f/proof/@file", empty), ("f/proof/@file", upload)]), attachments=store
    )
    assert sub.data["proof"]["name"] == "照片.png" and sub.data["proof"]["size"] == len(PNG)
    assert sub.data["members"] == VALID["members"]
