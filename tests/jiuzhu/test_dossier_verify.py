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
    first, note = capsys.readouterr().out.strip().splitlines()
    assert first == "case-1: ok (4 条事件)" and "尚无覆盖本案件的签名摘要" in note
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


def _covered(keys: object) -> tuple[dict, list]:
    from engine.digest import Leaf, make_digest

    drafts = [EventDraft("instance_started", {"n": i}, actor="xl_shiqiao") for i in range(4)]
    events = seal("case-1", drafts, after_seq=0, prev_hash=GENESIS, at=AT)
    others = [Leaf(f"case-{i}", i, f"{i:064x}") for i in range(2, 7)]
    digest = make_digest([Leaf("case-1", 4, events[-1].hash), *others], keys, AT)  # type: ignore[arg-type]
    text = dossier_verify.events_document(
        "case-1", events, head_count=4, head_hash=events[-1].hash, covering=(digest, digest.covers()["case-1"])
    )
    return json.loads(text), drafts


def test_the_covering_digest_proves_the_head_offline_and_catches_a_recomputed_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from integrations.digest_keys import Ed25519Keys

    keys = Ed25519Keys.generate()
    document, drafts = _covered(keys)
    assert "case-2" not in json.dumps(document["digest"])  # the archive names no other case
    code, out = _check(tmp_path, document, capsys)
    assert code == 0 and "签名摘要" in out and keys.public_key in out

    path = tmp_path / "events.json"
    assert dossier_verify.main([str(path), "--public-key", keys.public_key]) == 0
    assert cli.main(["audit", "verify-file", str(path), "--public-key", keys.public_key]) == 0
    assert dossier_verify.main([str(path), "--public-key", Ed25519Keys.generate().public_key]) == 1
    assert "所给公钥" in capsys.readouterr().out

    # An insider rewrites the whole chain with recomputed hashes: links hold, the signed head does not.
    drafts[1] = EventDraft("instance_started", {"n": "改过"}, actor="xl_shiqiao")
    forged = seal("case-1", drafts, after_seq=0, prev_hash=GENESIS, at=AT)
    document["events"] = [dossier_verify.event_json(e) for e in forged]
    document["head"] = {"event_count": 4, "head_hash": forged[-1].hash}
    code, out = _check(tmp_path, document, capsys)
    assert code == 1 and "ok" in out and "签名时的链头" in out

    document, _ = _covered(keys)
    document["digest"]["signature"] = Ed25519Keys.generate().sign(b"x")
    code, out = _check(tmp_path, document, capsys)
    assert code == 1 and "签名无效" in out

    document, _ = _covered(keys)
    document["digest"]["proof"][0][1] = "0" * 64
    code, out = _check(tmp_path, document, capsys)
    assert code == 1 and "默克尔" in out
