"""A procedure made in the studio gets scenarios too: 探访关爱登记 (no feature module of
its own) is built over the API, dry-run to its end and saved as a scenario (a new
features/tanfang.feature whose 背景 deploys the draft); the scenario runs green
against the draft with the suite's runner (the generic binding,
tests/features/procedure_scenarios.py); the stage limit cut from 5 to 3 working
days is refused at publish, naming the scenario and its step; put back, the draft
publishes and v1 stores the scenario. Three real scenario runs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.studio.scenario_files import GENERIC_MODULE, scenarios_in, suite_for
from jiuzhu.studio.scenarios import ScenarioCheck
from tests.conftest import START
from tests.support.web_support import WebWorld, csrf_of, web_over

PID = "tanfang"
API = f"/api/studio/drafts/{PID}"
NAME = "试运行：登记探访后正常办结"
ID_NUMBER = "11010519491231002X"
START_FORM = {
    "title": "探访登记",
    "type": "object",
    "required": ["name", "id_number"],
    "properties": {
        "name": {"type": "string", "title": "被探访人姓名", "minLength": 2},
        "id_number": {"type": "string", "title": "身份证号", "format": "cn-id-number"},
    },
}
VISIT_FORM = {
    "title": "登记探访",
    "type": "object",
    "required": ["visited_on", "found_difficulty"],
    "properties": {
        "visited_on": {"type": "string", "title": "探访日期", "format": "date"},
        "found_difficulty": {"type": "string", "title": "是否发现困难", "enum": ["是", "否"]},
    },
}
POLICY = {"id": "tanfang.national", "version": "2026-12", "procedure": "tanfang", "title": "探访关爱登记时限",
          "source": "本地规定（示例）", "processes": ["tanfang"], "regions": ["CN"],
          "overall": {"name": "探访登记总时限", "limit": 10, "unit": "working_days", "source": "本地规定"},
          "stages": {"visit": {"name": "登记探访", "limit": 5, "unit": "working_days", "warn_before": 1,
                               "escalate_to": "乡镇审核人", "source": "本地规定：5个工作日内登记"}}}  # fmt: skip


def _property(name: str, value: str) -> str:
    return f'<spiffworkflow:property name="{name}" value="{value}" />'


MODEL = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="tanfang_definitions" \
targetNamespace="http://jiuzhu.example/bpmn">
  <bpmn:process id="tanfang" name="探访关爱登记" isExecutable="true">
    <bpmn:startEvent id="start" name="开始">
      <bpmn:extensionElements><spiffworkflow:properties>
        {_property("formJsonSchemaFilename", "tanfang-start-schema.json")}
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="visit" name="登记探访">
      <bpmn:extensionElements><spiffworkflow:properties>
        {_property("formJsonSchemaFilename", "tanfang-visit-schema.json")}
        {_property("slaStage", "visit")}
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="正常办结"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="visit" />
    <bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    url = f"sqlite:///{tmp_path_factory.mktemp('new-procedure') / 'studio.db'}"
    store = SqlStore.from_url(url)
    store.create_schema()
    engine = Engine(store, FixedClock(START), Sandbox(helpers=HELPERS))
    web = web_over(engine, url)
    web.app.state.studio_publish_checks[:] = [ScenarioCheck(timeout=240)]
    yield web
    store.engine.dispose()


def _designer(world: WebWorld) -> TestClient:
    client = world.signed_in("designer")
    made = client.post("/studio/new", data={"process_id": PID, "name": "探访关爱登记",
                                            "csrf_token": csrf_of(client.get("/studio").text)})  # fmt: skip
    assert made.status_code == 303, made.text
    token = re.search(r'data-csrf="([^"]+)"', client.get(f"/studio/{PID}").text)
    assert token, "the editor page carries the CSRF token"
    client.headers["X-CSRF-Token"] = token.group(1)
    return client


def _put(client: TestClient, name: str, text: str) -> dict[str, Any]:
    revision = client.get(API).json()["revision"]
    headers = {"If-Match": str(revision), "Content-Type": "text/plain; charset=utf-8"}
    saved = client.put(f"{API}/files/{name}", content=text.encode("utf-8"), headers=headers)
    assert saved.status_code == 200, saved.text
    return saved.json()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


DRY_RUN = {
    "accepted_on": "2026-12-07",
    "region": "CN",
    "start": {"name": "王奶奶", "id_number": ID_NUMBER},
    "steps": [{"kind": "complete", "task": "visit", "data": {"visited_on": "2026-12-08", "found_difficulty": "否"}}],
}


@pytest.mark.timeout(600)
def test_a_new_procedure_saves_a_dry_run_as_a_scenario_that_guards_its_publishing(world: WebWorld) -> None:
    client = _designer(world)
    _put(client, "tanfang.bpmn", MODEL)
    _put(client, "tanfang-start-schema.json", _json(START_FORM))
    _put(client, "tanfang-visit-schema.json", _json(VISIT_FORM))
    policy = _json(POLICY)
    problems = _put(client, "tanfang.national.sla.json", policy)["problems"]
    assert [p for p in problems if p["severity"] == "error"] == [], problems  # no diagram: a warning only

    state = client.post(f"{API}/dry-run", json=DRY_RUN).json()
    assert state["error"] is None and state["status"] == "completed", state
    saved = client.post(f"{API}/dry-run/scenario", json=DRY_RUN | {"name": NAME})
    assert saved.status_code == 200, saved.text
    assert saved.json()["file"] == "tanfang.feature"
    feature = client.get(API).json()["files"]["tanfang.feature"]
    lines = [line.strip() for line in feature.splitlines()]
    assert lines[:2] == ["# language: zh-CN", "功能: 探访关爱登记"]
    assert "假如 已部署流程「tanfang」及其时限政策" in lines
    assert "并且 「试运行」办理「visit」，提交：" in lines  # 登记探访 also names the stage
    assert "并且 「登记探访」的期限是 2026年12月14日（星期一）" in lines
    assert lines[-1] == "并且 案件以「正常办结」结束"
    assert [s.name for s in scenarios_in("tanfang.feature", feature)] == [NAME]

    run = client.post(f"{API}/scenarios", json={}).json()
    assert run["outcome"] == "passed", run
    assert [(r["name"], r["passed"]) for r in run["results"]] == [(NAME, True)]
    listed = client.get(f"/studio/{PID}/scenarios").text
    assert NAME in listed and 'data-testid="no-scenarios"' not in listed

    # 5 working days cut to 3: the saved deadline no longer holds, and publishing is refused on it.
    _put(client, "tanfang.national.sla.json", policy.replace('"limit": 5', '"limit": 3'))
    refused = client.post(f"{API}/publish", json={"note": "登记时限缩短为3个工作日"})
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem["code"] == "SCENARIO_FAILED" and problem["file"] == "features/tanfang.feature"
    assert f"场景「{NAME}」未通过" in problem["message"]
    assert "在步骤「并且 「登记探访」的期限是 2026年12月14日（星期一）」失败" in problem["message"]
    assert world.engine.versions(PID) == []

    _put(client, "tanfang.national.sla.json", policy)
    published = client.post(f"{API}/publish", json={"note": "初版"})
    assert published.status_code == 200, published.text
    v1 = client.get(f"/api/studio/procedures/{PID}/versions/1/files").json()["files"]
    assert v1["tanfang.feature"] == feature


def test_a_procedure_of_the_checkout_keeps_its_own_binding() -> None:
    assert suite_for("dibao", {}).test_module == "tests/features/test_dibao.py"  # type: ignore[union-attr]
    mine = suite_for("tanfang", {"tanfang.feature": b"", "tanfang_more.feature": b"", "other.feature": b""})
    assert mine is not None and mine.test_module == GENERIC_MODULE
    assert mine.features == ("tanfang.feature", "tanfang_more.feature")
    assert suite_for("tanfang", {"tanfang.bpmn": b""}) is None
    assert (Path(__file__).parents[2] / GENERIC_MODULE).is_file()
