"""The case page, case list and 台账 export over HTTP, signed in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from zipfile import ZipFile

from openpyxl import load_workbook

from engine.service.facade import Engine
from tests.support.web_support import WebWorld, make_world

HOUSEHOLD = {
    "assistance_type": "低保",
    "applicant": {"name": "刘一", "id_number": "330102199001011234", "sex": "男", "mobile": "13800001111"},
    "members": [
        {"name": "刘一", "relationship": "本人", "id_number": "330102199001011234", "counted": True},
        {"name": "王芳", "relationship": "配偶", "id_number": "330102199202022345", "counted": True},
        {"name": "刘小", "relationship": "子女", "id_number": "330102201503033456", "counted": False},
    ],
    "proof": {"sha256": "ab" * 32, "name": "户口本.pdf", "mime": "application/pdf", "size": 20480},
}


def _case(world: WebWorld, org: str = "qinghe.dongcheng.yangliu") -> str:
    view = world.engine.start(
        "sla_skeleton", HOUSEHOLD, actor="xl_yangliu", org_unit=org, region="CN", business_key="DB-2026-007"
    )
    return view.record.id


def _facts(html: str) -> dict[str, list[str]]:
    found = re.search(r"data-facts='([^']+)'", html)
    assert found
    facts: dict[str, list[str]] = json.loads(found.group(1).replace("&#34;", '"'))
    return facts


def test_case_page_shows_household_documents_timeline_and_position(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url)
    instance = _case(world)
    task = world.task_of(instance)
    world.engine.complete_task(instance, task, {"materials_complete": True}, actor="jb_dongcheng")
    page = world.signed_in("jb_dongcheng").get(f"/cases/{instance}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "刘一" in text and "王芳" in text and "330102199202022345" in text
    assert "户口本.pdf" in text and "20.0 KB" in text
    assert "提交了「受理审查」" in text and "网关走向：「材料是否齐全」 → 「启动家庭经济状况调查」" in text
    assert "2026-11-02 09:00" in text  # Beijing time of the start
    assert "审核确认总时限" in text and "2026-12-14" in text
    facts = _facts(text)
    assert facts["current"] == ["start_investigation"]
    assert "accept_review" in facts["completed"] and "gw_materials" in facts["completed"]
    assert facts["flows"]
    # The full numbers shown were audited once, by the viewer.
    viewed = [e for e in world.engine.events(instance) if e.type == "id_number_viewed"]
    assert [e.actor for e in viewed] == ["jb_dongcheng"]
    assert world.engine.verify(instance)[0].ok
    xml = world.signed_in("jb_dongcheng").get(f"/cases/{instance}/diagram.bpmn")
    assert xml.status_code == 200 and b'id="start_investigation"' in xml.content


def test_case_page_is_scoped_and_masks_for_roles_without_full_view(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url)
    instance = _case(world)
    assert world.signed_in("jb_xiwan").get(f"/cases/{instance}").status_code == 403
    assert world.signed_in("jb_xiwan").get(f"/cases/{instance}/diagram.bpmn").status_code == 403
    assert world.signed_in("lb_power").get(f"/cases/{instance}").status_code == 403
    assert world.client().get(f"/cases/{instance}").status_code == 303  # to sign-in
    listing = world.signed_in("jb_xiwan").get("/cases").text
    assert "刘一" not in listing
    mine = world.signed_in("jb_dongcheng").get("/cases").text
    assert "刘一" in mine and "3301**********1234" in mine and "330102199001011234" not in mine


def test_ledger_export_is_a_workbook_with_the_office_columns(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url)
    _case(world)
    _case(world, "qinghe.xiwan.shangzhuang")
    r = world.signed_in("jb_dongcheng").get("/cases/ledger.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["案件编号", "申请人", "身份证号(脱敏)", "家庭人口"]
    assert "剩余工作日" in header and {"决定", "决定日期", "决定机关", "救助金额(元)", "发放起始月"} <= set(header)
    assert sheet.freeze_panes == "A2" and sheet.max_row == 2  # the neighbour's case is not in it
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    assert row["案件编号"] == "DB-2026-007" and row["身份证号(脱敏)"] == "3301**********1234"
    assert row["家庭人口"] == 2 and row["所属乡镇(街道)"] == "东城街道" and row["所属村(社区)"] == "杨柳社区"
    assert row["受理日期"].date().isoformat() == "2026-11-02" and row["剩余工作日"] == 30
    assert sheet.column_dimensions["C"].width == 21


def test_ledger_export_keeps_a_name_that_looks_like_a_formula_as_text(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    """Formula injection: a spreadsheet must not evaluate what an applicant wrote as a name."""
    world = make_world(make_engine_for, db_url)
    hostile = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1)", "\t=1"]
    for name in hostile:
        data = {**HOUSEHOLD, "applicant": {**HOUSEHOLD["applicant"], "name": name}}  # type: ignore[dict-item]
        world.engine.start("sla_skeleton", data, actor="t", org_unit="qinghe.dongcheng.yangliu", region="CN")
    r = world.signed_in("jb_dongcheng").get("/cases/ledger.xlsx")
    assert r.status_code == 200
    sheet = load_workbook(BytesIO(r.content)).active
    column = [c.value for c in sheet[1]].index("申请人") + 1
    cells = [sheet.cell(row, column) for row in range(2, sheet.max_row + 1)]
    assert sorted(c.value for c in cells) == sorted(hostile)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    # Nothing in the file is a formula: no <f> element in any sheet.
    with ZipFile(BytesIO(r.content)) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in package.read(n) or b"<f " in package.read(n) for n in sheets)
    # An ordinary name keeps the ordinary style.
    world.engine.start("sla_skeleton", HOUSEHOLD, actor="t", org_unit="qinghe.dongcheng.yangliu", region="CN")
    sheet = load_workbook(BytesIO(world.signed_in("jb_dongcheng").get("/cases/ledger.xlsx").content)).active
    plain = [sheet.cell(row, column) for row in range(2, sheet.max_row + 1) if sheet.cell(row, column).value == "刘一"]
    assert plain and not plain[0].quotePrefix


def test_a_document_of_the_case_downloads_audited_and_only_from_its_own_case(
    make_engine_for: Callable[..., Engine], db_url: str, tmp_path: Path
) -> None:
    world = make_world(make_engine_for, db_url, JIUZHU_ATTACHMENTS_DIR=str(tmp_path))
    store = world.context.attachments
    assert store is not None
    digest = store.put(b"%PDF-1.4 household register")
    elsewhere = store.put(b"<html><script>alert(1)</script></html>")  # stored, but this case does not refer to it
    data = {**HOUSEHOLD, "proof": {"sha256": digest, "name": "户口本.pdf", "mime": "application/pdf", "size": 27}}
    view = world.engine.start("sla_skeleton", data, actor="xl_yangliu", org_unit="qinghe.dongcheng.yangliu")
    instance = view.record.id
    client = world.signed_in("jb_dongcheng")
    assert f'href="/cases/{instance}/documents/{digest}"' in client.get(f"/cases/{instance}").text
    r = client.get(f"/cases/{instance}/documents/{digest}")
    assert r.status_code == 200 and r.content == b"%PDF-1.4 household register"
    assert r.headers["content-type"] == "application/pdf" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"] == "attachment; filename*=UTF-8''%E6%88%B7%E5%8F%A3%E6%9C%AC.pdf"
    assert client.get(f"/cases/{instance}/documents/{elsewhere}").status_code == 404
    assert client.get(f"/cases/{instance}/documents/not-a-digest").status_code == 404
    assert world.signed_in("jb_xiwan").get(f"/cases/{instance}/documents/{digest}").status_code == 403
    downloads = [e for e in world.engine.events(instance) if e.type == "document_downloaded"]
    assert [(e.actor, e.payload["name"]) for e in downloads] == [("jb_dongcheng", "户口本.pdf")]
    assert "下载了材料「户口本.pdf」" in client.get(f"/cases/{instance}").text
