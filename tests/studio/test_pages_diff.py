"""The diff page, its JSON, and the scenarios fragment, over two real 低保
versions; designers and administrators only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from jiuzhu.studio.scenarios import ScenarioCheck
from tests.support.studio_versions import NEW_TASK, NORMAL, RENAMED, dibao_draft, dibao_scenario_count
from tests.support.studio_world import two_versions
from tests.support.web_support import TOKEN, WebWorld, csrf_of


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    yield two_versions(tmp_path_factory.mktemp("studio-pages"))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_designer_sees_both_versions_and_every_change_in_chinese(world: WebWorld) -> None:
    r = world.signed_in("designer").get("/studio/dibao/diff?from=1&to=2")
    assert r.status_code == 200, r.text
    shown = text_of(r.text)
    assert "最低生活保障审核确认：v1 → v2" in shown
    assert f"新增用户任务「上传公示照片」（{NEW_TASK}）" in shown
    renamed = f"修改用户任务「登记公示结果并存档」（{RENAMED}）：流入：db_f_published → db_f_photo；"
    assert renamed + "名称：登记公示结果 → 登记公示结果并存档" in shown
    assert "dibao-publicity-result-schema.json 异议内容摘要 objection_summary 修改 标题 异议内容 异议内容摘要" in shown
    assert "公示地点 publicity_place 新增" in shown
    assert "dibao.national.sla.json 公示 dibao.national/publicity 修改 时限 7 5" in shown
    data = json.loads(re.search(r'id="diff-data">(.*?)</script>', r.text, re.S).group(1))  # type: ignore[union-attr]
    assert data["markers"]["added"] == ["db_f_photo", NEW_TASK]
    assert NEW_TASK in data["to"]["xml"] and NEW_TASK not in data["from"]["xml"]
    assert '<option value="1" selected>' in r.text and '<option value="2" selected>' in r.text


def test_without_versions_chosen_the_newest_is_compared_with_the_one_before(world: WebWorld) -> None:
    r = world.signed_in("admin").get("/studio/dibao/diff")
    assert r.status_code == 200 and "v1 → v2" in r.text


def test_other_roles_never_see_the_diff(world: WebWorld) -> None:
    assert world.signed_in("jb_dongcheng").get("/studio/dibao/diff?from=1&to=2").status_code == 403
    r = world.client().get("/studio/dibao/diff")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert world.signed_in("mz_county").get("/api/studio/procedures/dibao/diff?from=1&to=2").status_code == 403


def test_unknown_versions_are_located_not_found(world: WebWorld) -> None:
    client = world.signed_in("designer")
    assert client.get("/studio/dibao/diff?from=1&to=7").status_code == 404
    r = client.get("/api/studio/procedures/dibao/diff?from=1&to=7")
    assert (r.status_code, r.json()["code"]) == (404, "VERSION_NOT_FOUND")
    assert client.get("/api/studio/procedures/nothing/diff?from=1&to=2").status_code == 404


def test_the_diff_as_json(world: WebWorld) -> None:
    r = world.client().get(
        "/api/studio/procedures/dibao/diff", params={"from": 1, "to": 2}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"]) == (1, 2)
    added = next(e for e in body["elements"] if e["key"] == NEW_TASK)
    assert (added["kind"], added["label"], added["type_label"]) == ("added", "上传公示照片", "用户任务")
    [policy] = body["policies"]
    assert policy["facts"] == [{"key": "limit", "label": "时限", "old": "7", "new": "5"}]


def test_the_scenarios_fragment_lists_each_scenario_with_a_run_button(world: WebWorld) -> None:
    client = world.signed_in("designer")
    page = client.get("/studio/dibao/scenarios")
    assert page.status_code == 200 and "<html" in page.text
    fragment = client.get("/studio/dibao/scenarios", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.count('data-scenario-run="') == dibao_scenario_count() + 1  # and 运行全部场景
    assert "正常办理——县级审核确认，按差额计发，次月起发放并启动“一件事”联办" in fragment.text
    assert "「公示」的期限是 2026年3月10日（星期二）" in fragment.text
    assert world.signed_in("jb_dongcheng").get("/studio/dibao/scenarios").status_code == 403


def test_bad_runs_are_refused_and_the_publish_check_is_registered(world: WebWorld) -> None:
    client = world.signed_in("designer")
    csrf = csrf_of(client.get("/account/tokens").text)
    r = client.post("/api/studio/drafts/yijianshi_none/scenarios", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404  # nothing published under that id
    bad = client.post(
        "/api/studio/drafts/dibao/scenarios", json={"files": {"../x.bpmn": "<x/>"}}, headers={"X-CSRF-Token": csrf}
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "SCENARIO_FILE_NAME")
    checks = world.app.state.studio_publish_checks
    assert [type(c) for c in checks] == [ScenarioCheck] and checks[0].timeout == 300
    assert checks[0]("sla_skeleton", {}) == []  # no scenarios of its own: nothing to break


@pytest.mark.timeout(300)
def test_the_unchanged_draft_passes_its_scenario_through_the_api(world: WebWorld) -> None:
    draft = {name: content.decode("utf-8") for name, content in dibao_draft().items()}
    r = world.client().post(
        "/api/studio/drafts/dibao/scenarios",
        json={"files": draft, "scenarios": [NORMAL]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["outcome"], body["passed"]) == ("passed", True), body
    assert body["results"] == [
        {"name": NORMAL, "feature": "dibao.feature", "passed": True, "step": None, "message": None}
    ]


def test_a_draft_carries_its_own_scenarios_which_the_fragment_lists_and_offers_to_edit(world: WebWorld) -> None:
    client = world.signed_in("designer")
    csrf = csrf_of(client.get("/account/tokens").text)
    revision = client.get("/api/studio/drafts/dibao").json()["revision"]
    own = "# language: zh-CN\n功能: 低保\n\n  场景: 草稿里的场景\n    假如 已加载时限政策并部署低保和“一件事”联办流程\n"

    def put(name: str, expected: int) -> Any:
        headers = {"X-CSRF-Token": csrf, "If-Match": str(expected), "Content-Type": "text/plain; charset=utf-8"}
        return client.put(f"/api/studio/drafts/dibao/files/{name}", content=own.encode(), headers=headers)

    refused = put("yijianshi.feature", revision)  # another procedure's scenarios are not this draft's
    assert (refused.status_code, refused.json()["code"]) == (422, "SCENARIO_FILE_NAME")
    saved = put("dibao.feature", revision)
    assert saved.status_code == 200, saved.text
    assert [p for p in saved.json()["problems"] if p["severity"] == "error"] == []  # not a file deploy reads
    fragment = client.get("/studio/dibao/scenarios", headers={"HX-Request": "true"}).text
    assert 'data-scenario="草稿里的场景"' in fragment and fragment.count("data-scenario=") == 1
    assert '<textarea data-feature-file="dibao.feature"' in fragment and "草稿里的场景" in fragment
    assert "data-feature-file" not in client.get("/studio/dibao/scenarios").text  # editing is the editor's
