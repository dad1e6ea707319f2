"""The offline check of a 一户一档 ``events.json`` (no database): ok, or the first event that does not hold."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.audit import GENESIS, seal
from engine.events import EventDraft
from jiuzhu import cli, dossier_verify

AT = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def _document() -> dict:
    drafts = [EventDraft("instance_started", {"n": i}, actor="xl_shiqiao") for i in range(4)]
    events = seal("case-1", drafts, after_seq=0, prev_hash=GENESIS, at=AT)
    text = dossier_verify.events_document("case-1", events, head_count=4, head_hash=events[-1].hash)
    return json.loads(text)


def _check(tmp_path: Path, document: dict, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    code = dossier_verify.main([str(path)])
    return code, capsys.readouterr().out


def test_an_untouched_export_is_ok_from_a_zip_and_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _document()
    assert document["events"][1]["prev_hash"] == document["events"][0]["hash"]
    path = tmp_path / "dossier.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("events.json", json.dumps(document))
    assert dossier_verify.main([str(path)]) == 0
    assert capsys.readouterr().out.strip() == "case-1: ok (4 条事件)"
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # offline: never opened
    assert cli.main(["audit", "verify-file", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_a_changed_hash_a_changed_column_and_a_dropped_event_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _document()
    document["events"][2]["hash"] = "f" + document["events"][2]["hash"][1:]
    code, out = _check(tmp_path, document, capsys)
    assert code == 1 and "第 3 条事件被篡改" in out

    document = _document()
    document["events"][1]["actor"] = "someone_else"
    code, out = _check(tmp_path, document, capsys)
    assert code == 1 and "第 2 条事件被篡改" in out and "actor" in out

    document = _document()
    document["events"].pop()
    code, out = _check(tmp_path, document, capsys)
    assert code == 1 and "事件被删除或追加" in out


def test_a_file_that_is_no_export_fails_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.json"
    path.write_text("{not json", encoding="utf-8")
    assert dossier_verify.main([str(path)]) == 1
    assert "不是有效的导出文件" in capsys.readouterr().out
    assert dossier_verify.main([]) == 2
    assert dossier_verify.main([str(tmp_path / "missing.zip")]) == 2
    assert "无法读取" in capsys.readouterr().err
