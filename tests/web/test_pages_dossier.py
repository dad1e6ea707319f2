"""一户一档: the zip of a finished real 低保 case (PDF, notices, events.json that
re-verifies offline), who may download it, the download on the chain, and the
查阅记录 section of the case page."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine.clock import FixedClock
from integrations.sql.store import SqlStore
from jiuzhu import dossier_verify
from tests.support import decided_cases as dc
from tests.support.page_text import visible_text
from tests.support.web_support import WebWorld, demo_accounts


def _name(username: str) -> str:
    return next(u.display_name for u in demo_accounts()[1] if u.username == username)


def pdf_text(body: bytes) -> str:
    reader = PdfReader(BytesIO(body))
    return "".join(page.extract_text() for page in reader.pages).replace(" ", "").replace("\n", "")


@pytest.fixture
def decided(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> tuple[WebWorld, str]:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    return world, dc.decided(engine, clock, dc.APPROVE)


def _zip(world: WebWorld, iid: str, user: str = "audit") -> zipfile.ZipFile:
    r = world.signed_in(user).get(f"/cases/{iid}/dossier.zip")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip" and "attachment" in r.headers["content-disposition"]
    return zipfile.ZipFile(BytesIO(r.content))


def test_the_dossier_of_a_decided_dibao_case_names_household_decision_and_notices(
    decided: tuple[WebWorld, str],
) -> None:
    world, iid = decided
    # The archive copies what was issued: an export neither issues a notice nor takes a 文号.
    assert not any(n.startswith("notices/") for n in _zip(world, iid).namelist())
    issued = world.signed_in("mz_county").get(f"/cases/{iid}/notices/approval.pdf")
    assert issued.status_code == 200
    archive = _zip(world, iid)
    names = archive.namelist()
    assert "dossier.pdf" in names and "events.json" in names
    assert any(n.startswith("notices/approval-") for n in names)  # the 确认通知书 the county issued
    text = pdf_text(archive.read("dossier.pdf"))
    county = _name("mz_county")
    assert "社会救助一户一档" in text and "申请人：周明（" in text and "家庭成员：周秀兰（" in text
    assert "决定：同意（纳入救助）" in text and "低保证编号：QH-DB-2026-0031" in text
    assert f"决定人：{county}（县级民政局）" in text
    assert f"{county}（县级民政局）提交「县级审核确认」" in text  # every step with its actor
    assert f"{_name('jb_nanshan')}（乡镇(街道)经办人）提交「受理审查」" in text
    assert "最低生活保障确认通知书（随本档案附PDF）" in text and "案件办结" in text
    assert "导出一户一档" in text  # the export names itself in 查阅记录
    notice = next(n for n in names if n.startswith("notices/approval-"))
    assert pdf_text(archive.read(notice)) == pdf_text(issued.content)  # the same notice, the same 文号


def test_the_events_json_reverifies_offline_and_one_changed_byte_is_named(
    decided: tuple[WebWorld, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world, iid = decided
    archive = _zip(world, iid, "mz_county")
    document = json.loads(archive.read("events.json"))
    stored = world.engine.events(iid)
    assert [e["hash"] for e in document["events"]] == [e.hash for e in stored]
    assert document["head"]["event_count"] == len(stored)
    path = tmp_path / "dossier.zip"
    path.write_bytes(_zip_bytes(archive))
    assert dossier_verify.main([str(path)]) == 0
    assert "ok" in capsys.readouterr().out

    # One byte of one event's stored body changed: that event is named.
    text = archive.read("events.json").decode("utf-8")
    target = document["events"][4]
    forged_body = target["body"].replace('"seq":5', '"seq":6', 1)
    assert forged_body != target["body"] and len(forged_body) == len(target["body"])
    bad = tmp_path / "events.json"
    bad.write_text(
        text.replace(json.dumps(target["body"], ensure_ascii=False), json.dumps(forged_body, ensure_ascii=False), 1),
        encoding="utf-8",
    )
    assert dossier_verify.main([str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{iid}: 第 5 条事件被篡改" in out and "哈希" in out


def test_once_a_signed_digest_covers_the_case_the_archive_proves_its_head_against_it(
    decided: tuple[WebWorld, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from integrations.digest_keys import Ed25519Keys
    from jiuzhu.wiring import anchor

    world, iid = decided
    keys = Ed25519Keys.generate()
    anchor(world.engine, keys)
    world.engine.write_digest()
    path = tmp_path / "dossier.zip"
    path.write_bytes(_zip_bytes(_zip(world, iid, "mz_county")))
    assert dossier_verify.main([str(path), "--public-key", keys.public_key]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and f"公钥 {keys.public_key}" in out


def _zip_bytes(archive: zipfile.ZipFile) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as copy:
        for name in archive.namelist():
            copy.writestr(name, archive.read(name))
    return out.getvalue()


def test_downloading_the_dossier_is_an_event_on_the_case(decided: tuple[WebWorld, str]) -> None:
    world, iid = decided
    before = len(world.engine.events(iid))
    archive = _zip(world, iid)
    events = world.engine.events(iid)
    assert len(events) == before + 1
    last = events[-1]
    assert last.type == "dossier_exported" and last.actor == "audit"
    # The archive includes its own export event, and the chain still verifies.
    assert json.loads(archive.read("events.json"))["events"][-1]["type"] == "dossier_exported"
    assert all(v.ok for v in world.engine.verify(iid))


def test_a_caseworker_may_not_and_an_auditor_out_of_scope_may_not_download(decided: tuple[WebWorld, str]) -> None:
    world, iid = decided
    before = len(world.engine.events(iid))
    assert world.signed_in("jb_nanshan").get(f"/cases/{iid}/dossier.zip").status_code == 403
    _units, users = demo_accounts()
    auditor = next(u for u in users if u.username == "audit")
    world.context.accounts.save_users([dataclasses.replace(auditor, username="audit_xiwan", org_unit="qinghe.xiwan")])
    assert world.signed_in("audit_xiwan").get(f"/cases/{iid}/dossier.zip").status_code in (403, 404)
    assert len(world.engine.events(iid)) == before  # refusals leave no export event
    # The case page links the export for those who may take it, not for a caseworker.
    assert 'data-testid="dossier"' in world.signed_in("audit").get(f"/cases/{iid}").text
    assert 'data-testid="dossier"' not in world.signed_in("jb_nanshan").get(f"/cases/{iid}").text


def test_the_access_log_lists_a_prior_id_view_for_the_auditor_only(decided: tuple[WebWorld, str]) -> None:
    world, iid = decided
    handler = world.signed_in("jb_nanshan")
    assert handler.get(f"/cases/{iid}").status_code == 200  # shows the full 身份证号: one access event
    assert 'data-testid="access-log"' not in handler.get(f"/cases/{iid}").text
    page = world.signed_in("audit").get(f"/cases/{iid}").text
    assert 'data-testid="access-log"' in page
    section = visible_text(page.split('data-testid="access-log"', 1)[1].split("</section>", 1)[0])
    handler_name = _name("jb_nanshan")
    assert handler_name in section and "查看完整身份证号" in section and "案件页" in section
    assert "乡镇(街道)经办人" in section  # the role, in Chinese
    # The 查阅记录 travels in the dossier as well.
    text = pdf_text(_zip(world, iid).read("dossier.pdf"))
    assert "查看完整身份证号" in text and handler_name in text
