"""``jiuzhu audit digest`` and ``verify`` against the digest, from the command line and the API;
``jiuzhu audit search|show|export``."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.clock import FixedClock
from engine.digest import MISMATCH, Digest, signature_problem
from engine.service.facade import Engine
from integrations.digest_keys import Ed25519Keys
from jiuzhu import cli, dossier_verify
from jiuzhu.api import create_app
from jiuzhu.settings import Settings
from jiuzhu.web.access_log import DOSSIER_EXPORTED
from jiuzhu.wiring import anchor
from tests.conftest import SAMPLE, deploy
from tests.engine.test_audit import run_sample
from tests.support.insider import rewrite_chain
from tests.support.web_support import make_world

SEED = "11" * 32
KEYS = Ed25519Keys.from_hex(SEED)


def test_audit_digest_writes_a_file_and_verify_names_a_rewritten_chain(
    sample_engine: Engine,
    clock: FixedClock,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    iid = run_sample(sample_engine, clock)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("JIUZHU_DIGEST_KEY_FILE", raising=False)
    monkeypatch.delenv("JIUZHU_DIGEST_KEY", raising=False)
    assert cli.main(["audit", "digest"]) == 2
    assert "未配置摘要签名密钥" in capsys.readouterr().err

    key_file = tmp_path / "keys" / "digest.pem"
    KEYS.write(key_file)
    monkeypatch.setenv("JIUZHU_DIGEST_KEY_FILE", str(key_file))
    out_file = tmp_path / "export" / "digest.json"
    assert cli.main(["audit", "digest", "--out", str(out_file)]) == 0
    out = capsys.readouterr().out
    saved = Digest.from_json(json.loads(out_file.read_text(encoding="utf-8")))
    assert f"根哈希 {saved.root}\n" in out and f"已写入 {out_file}" in out
    assert any(leaf.chain_id == iid for leaf in saved.leaves)
    assert signature_problem(saved, KEYS) is None  # re-verifies offline from the file alone

    assert cli.main(["audit", "digest-key"]) == 0
    assert capsys.readouterr().out == f"Ed25519 {KEYS.public_key}\n"
    assert cli.main(["verify", iid]) == 0
    capsys.readouterr()

    rewrite_chain(sample_engine.store.engine, iid, 4, {"x": 1})  # type: ignore[attr-defined]
    monkeypatch.delenv("JIUZHU_DIGEST_KEY_FILE")
    monkeypatch.setenv("JIUZHU_DIGEST_KEY", SEED)  # the same key, given as hex
    assert cli.main(["verify"]) == 1
    out = capsys.readouterr().out
    assert iid in out and f"与 {saved.day} 的签名摘要不符" in out and MISMATCH in out


def test_the_api_publishes_the_key_and_reports_the_code(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    env = {"DATABASE_URL": db_url, "JIUZHU_API_TOKEN": "t"}
    headers = {"Authorization": "Bearer t"}
    bare = TestClient(create_app(make_engine_for(), Settings.from_env(env)), headers=headers)
    assert bare.get("/api/audit/digest-key").json() == {"algorithm": "Ed25519", "public_key": None}

    settings = Settings.from_env({**env, "JIUZHU_DIGEST_KEY": SEED})
    engine = make_engine_for()
    anchor(engine, Ed25519Keys.from_hex(settings.digest_key or ""))
    deploy(engine, SAMPLE)
    iid = run_sample(engine, clock)
    engine.write_digest()
    client = TestClient(create_app(engine, settings), headers=headers)
    assert client.get("/api/audit/digest-key").json() == {"algorithm": "Ed25519", "public_key": KEYS.public_key}
    assert client.get(f"/api/instances/{iid}/verify").json()["ok"] is True
    rewrite_chain(engine.store.engine, iid, 2, {"x": 1})  # type: ignore[attr-defined]
    body = client.get(f"/api/instances/{iid}/verify").json()
    assert (body["ok"], body["code"]) == (False, MISMATCH)
    everything = client.get("/api/verify").json()
    assert [(b["chain_id"], b["code"]) for b in everything["broken"]] == [(iid, MISMATCH)]


def test_audit_search_show_and_export_from_the_command_line(
    make_engine_for: Callable[..., Engine],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = make_world(make_engine_for, db_url)
    handled = world.start("qinghe.dongcheng.yangliu", name="张三", id_number="33010219900101567X", key="QH-A-1")
    other = world.start("qinghe.xiwan.shangzhuang", name="李四", id_number="330102199001011234")
    world.engine.complete_task(handled, world.task_of(handled), {"materials_complete": True}, actor="jb_dongcheng")
    monkeypatch.setenv("DATABASE_URL", db_url)

    assert cli.main(["audit", "search", "--id-number", "33010219900101567x", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["total"] == 1 and [c["instance_id"] for c in found["cases"]] == [handled]
    assert found["cases"][0]["id_number_masked"] == "3301**********567X" and found["cases"][0]["case_no"] == "QH-A-1"
    assert cli.main(["audit", "search", "--handled-by", "jb_dongcheng"]) == 0
    out = capsys.readouterr().out
    assert handled in out and other not in out and out.endswith("共 1 件\n")
    assert cli.main(["audit", "search", "--org-unit", "qinghe.xiwan", "--process", "sla_skeleton"]) == 0
    out = capsys.readouterr().out
    assert other in out and handled not in out and "李四" in out
    assert cli.main(["audit", "search", "--since", "2026-13-01"]) == 2
    assert "--since 2026-13-01 无效" in capsys.readouterr().err

    assert cli.main(["audit", "show", handled]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"案件 QH-A-1（{handled}）\n") and "申请人：张三  3301**********567X" in shown
    assert "王建国（乡镇(街道)经办人）  提交了「" in shown  # jb_dongcheng, as the event's actor, in Chinese
    assert "  系统  " in shown and "发起了案件" in shown
    assert f"审计事件 {world.engine.instance_record(handled).event_count} 条" in shown

    # The export is audited as the web's download is, under the account --actor names.
    assert cli.main(["audit", "export", handled, "-o", str(tmp_path / "x.zip"), "--actor", "xl_yangliu"]) == 2
    assert "没有执行此操作的角色" in capsys.readouterr().err
    out_file = tmp_path / "out" / "dossier.zip"
    assert cli.main(["audit", "export", handled, "-o", str(out_file), "--actor", "audit"]) == 0
    assert str(out_file) in capsys.readouterr().out
    names = zipfile.ZipFile(out_file).namelist()
    assert "dossier.pdf" in names and "events.json" in names
    exported = [e for e in world.engine.events(handled) if e.type == DOSSIER_EXPORTED]
    assert [e.actor for e in exported] == ["audit"]
    assert dossier_verify.main([str(out_file)]) == 0  # the archive names its own export and re-verifies
