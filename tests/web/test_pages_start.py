"""新建申请: who sees it, the start form on a real procedure, and every refusal
(each answers 4xx with a located Chinese message, and no case is stored)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.clock import FixedClock
from integrations.sql import SqlStore
from jiuzhu.demo_cases import load_households
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES
from tests.support.formpost import browser_post
from tests.support.start_world import real_world
from tests.support.web_support import WebWorld

HOUSEHOLD = load_households()["刘桂芳"]  # 杨柳社区, 东城街道
APPLICANT = HOUSEHOLD["application"]["applicant"]
SUBMIT = ("f:action", "submit")


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    return real_world(make_store, clock, db_url)


def _post(client: TestClient, process_id: str = "dibao", **edits: str) -> tuple[int, str, str]:
    page = client.get(f"/cases/new/{process_id}").text
    fields = {"f/applicant/name": APPLICANT["name"], "f/applicant/id_number": APPLICANT["id_number"], **edits}
    form = page.split('data-testid="start-form"', 1)[1].split("</form>", 1)[0]
    data = browser_post("<form " + form + "</form>", submitter=SUBMIT)
    data.update({name: [value] for name, value in fields.items()})  # typed, as a browser would send it
    r = client.post(f"/cases/new/{process_id}", data=data)
    return r.status_code, r.headers.get("location", ""), r.text


def test_the_menu_and_the_list_offer_what_the_role_may_start(world: WebWorld) -> None:
    village = world.signed_in("xl_yangliu")
    inbox = village.get("/inbox").text
    assert 'href="/cases/new"' in inbox and "新建申请" in inbox
    listed = village.get("/cases/new").text
    assert 'data-process="dibao"' in listed and "最低生活保障审核确认" in listed
    assert 'data-process="yishiyiyi"' not in listed  # referred by the township, not the village
    assert 'data-process="yijianshi"' not in listed  # started by the 低保 decision
    township = world.signed_in("jb_dongcheng").get("/cases/new").text
    assert 'data-process="yishiyiyi"' in township and 'data-process="dibao"' in township
    reviewer = world.signed_in("sh_dongcheng")
    assert 'href="/cases/new"' not in reviewer.get("/inbox").text
    assert reviewer.get("/cases/new").status_code == 403
    assert reviewer.get("/cases/new/dibao").status_code == 403
    assert village.get("/cases/new/yishiyiyi").status_code == 403


def test_the_village_assistant_opens_a_dibao_case_and_lands_on_its_first_task(world: WebWorld) -> None:
    village = world.signed_in("xl_yangliu")
    form = village.get("/cases/new/dibao").text
    assert "经办单位" in form and "杨柳社区" in form and "河畔社区" not in form  # only units in scope
    status, location, _ = _post(village)
    assert status == 303, location
    [case] = world.engine.list_instances(process_id="dibao")
    assert (case.org_unit, case.region, case.started_by) == ("qinghe.dongcheng.yangliu", "CN", "xl_yangliu")
    [apply_task] = world.engine.get(case.id).ready
    assert location == f"/tasks/{apply_task.id}" and apply_task.element_id == "db_apply"
    data = world.engine.get(case.id).data
    assert data["applicant"] == {"name": APPLICANT["name"], "id_number": APPLICANT["id_number"]}
    task_page = village.get(location).text
    assert APPLICANT["name"] in task_page  # the application form starts from what was entered


@pytest.mark.parametrize(
    ("edits", "field", "text"),
    [
        ({"f/applicant/id_number": APPLICANT["id_number"][:-1] + "7"}, "applicant-id_number", "校验码"),
        ({"f/applicant/name": "刘\x00桂芳"}, "applicant-name", "控制字符"),
        ({"f/applicant/name": ""}, "applicant-name", ""),
    ],
)
def test_bad_start_data_is_refused_at_its_field_and_nothing_is_stored(
    world: WebWorld, edits: dict[str, str], field: str, text: str
) -> None:
    status, _, html = _post(world.signed_in("xl_yangliu"), **edits)
    assert status == 422
    assert f'id="jz-f-{field}-err"' in html and text in html
    assert world.engine.list_instances() == []


def test_an_org_unit_outside_the_scope_or_unknown_is_refused(world: WebWorld) -> None:
    village = world.signed_in("xl_yangliu")
    status, _, html = _post(village, org_unit="qinghe.nope")
    assert status == 422 and 'id="org_unit-err"' in html and "经办单位「qinghe.nope」不存在" in html
    status, _, html = _post(village, org_unit="qinghe.xiwan.shangzhuang")
    assert status == 403 and "管辖范围" in html
    assert world.engine.list_instances() == []


def test_a_second_open_application_for_the_same_id_number_names_the_open_case(world: WebWorld) -> None:
    village = world.signed_in("xl_yangliu")
    assert _post(village)[0] == 303
    [first] = world.engine.list_instances(process_id="dibao")
    township = world.signed_in("jb_dongcheng")  # at the window, in another unit of the same township
    status, _, html = _post(township, org_unit="qinghe.dongcheng")
    assert status == 422
    assert 'id="jz-f-applicant-id_number-err"' in html and first.id in html and "不能重复申请" in html
    assert len(world.engine.list_instances(process_id="dibao")) == 1
    world.engine.terminate(first.id, "申请人撤回申请", actor="jb_dongcheng")
    assert _post(township, org_unit="qinghe.dongcheng")[0] == 303  # once closed, a new application is fine


def test_who_may_start_is_what_the_deployed_model_says(world: WebWorld, tmp_path: Path) -> None:
    """No table in the code: a new version of 一事一议 whose start event names the
    village assistant instead of the township's window moves the procedure's
    新建申请 from the one to the other."""
    village, township = world.signed_in("xl_yangliu"), world.signed_in("jb_dongcheng")
    assert 'data-process="yishiyiyi"' not in village.get("/cases/new").text
    assert 'data-process="yishiyiyi"' in township.get("/cases/new").text
    source = (PROCESSES / "yishiyiyi" / "yishiyiyi.bpmn").read_text(encoding="utf-8")
    declared = '<spiffworkflow:property name="starterRoles" value="township_handler" />'
    assert declared in source
    model = tmp_path / "yishiyiyi.bpmn"
    model.write_text(source.replace(declared, declared.replace("township_handler", "village_assistant")), "utf-8")
    deploy_paths(world.engine, [model], FORMS, actor="designer")
    assert 'data-process="yishiyiyi"' in village.get("/cases/new").text
    assert village.get("/cases/new/yishiyiyi").status_code == 200
    assert 'data-process="yishiyiyi"' not in township.get("/cases/new").text
    assert township.get("/cases/new/yishiyiyi").status_code == 403
    admin = world.signed_in("admin")
    assert 'data-process="yishiyiyi"' in admin.get("/cases/new").text  # an administrator: any a person starts
    assert 'data-process="yijianshi"' not in admin.get("/cases/new").text  # started by the 低保 decision only
