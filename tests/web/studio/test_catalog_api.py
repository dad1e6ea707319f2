"""The studio's catalog and inline script check, over HTTP as the panel calls them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.studio.catalog import HELPER_DESCRIPTIONS
from jiuzhu.wiring import default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES
from tests.support.web_support import WebWorld, csrf_of, web_over, web_settings


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    """An engine wired like the server's: the default connectors and the working-day helpers."""
    settings = web_settings(db_url)
    connectors = default_connectors(settings.processes_dir, settings.hedui_records)
    engine = Engine(make_store(), clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_paths(engine, [PROCESSES / "sla", PROCESSES / "sla_skeleton"], FORMS, actor="designer")
    return web_over(engine, db_url)


def _api_client(world: WebWorld, username: str) -> TestClient:
    client = world.signed_in(username)
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/account/tokens").text)
    return client


def test_catalog_lists_what_a_model_may_name(world: WebWorld) -> None:
    answer = _api_client(world, "designer").get("/api/studio/catalog")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"code": "township_handler", "name": "乡镇(街道)经办人"} in body["roles"]
    assert {"name": "申请人/村(社区)协理员", "role": "village_assistant"} in body["lanes"]
    forms = {f["name"]: f for f in body["forms"]}
    assert forms["dibao-apply-schema.json"]["kind"] == "schema"
    assert forms["dibao-apply-uischema.json"]["kind"] == "ui"
    assert forms["dibao-apply-schema.json"]["folder"] == "dibao"
    national = next(p for p in body["policies"] if p["id"] == "dibao.national")
    assert "sla_skeleton" in national["processes"]
    publicity = next(s for s in national["stages"] if s["key"] == "publicity")
    assert (publicity["name"], publicity["limit"], publicity["unit_label"]) == ("公示", 7, "自然日")
    connectors = {c["name"]: c for c in body["connectors"]}
    assert {"hedui", "yijianshi_catalogue", "start_process"} <= set(connectors)
    members = connectors["hedui"]["parameters"][0]
    assert (members["name"], members["type"], members["required"]) == ("members", "list", True)
    decisions = {d["id"]: d for d in body["decisions"]}
    assert decisions["dibao_region"]["file"] == "dibao/dibao_region.dmn"
    assert decisions["dibao_region"]["name"].startswith("低保地区政策")
    helpers = {h["name"]: h for h in body["helpers"]}
    assert set(helpers) == set(HELPERS)
    assert helpers["sla_due"]["signature"].startswith("sla_due(stage")
    assert all(h["description"] for h in helpers.values())


def test_every_helper_has_a_chinese_line() -> None:
    assert set(HELPER_DESCRIPTIONS) == set(HELPERS)


REFUSED = [
    ("script", "x = 1\ny = ().__class__", "SCRIPT_FORBIDDEN", 2),
    ("script", "x = (", "SCRIPT_SYNTAX", 1),
    ("script", "import os", "SCRIPT_FORBIDDEN", 1),
    ("condition", "items.append(1) or True", "EXPRESSION_WRITES", 1),
    ("template", "{% for x in items %}", "INSTRUCTIONS_TEMPLATE", 1),
    ("timeDuration", "P99999999Y", "TIMER_OUT_OF_RANGE", None),
    ("timeDate", "${due}", "TIMER_INVALID", None),
    ("timeCycle", "R3/\x12PT1H", "TIMER_INVALID", None),  # no BPMN file can hold a control character
    ("timeDate", "due\x00", "TIMER_INVALID", None),
]
ACCEPTED = [
    ("script", "total = sum([m['income'] for m in members])"),
    ("condition", 'decision == "同意"'),
    ("template", "请核对 {{ applicant.name }} 的材料"),
    ("timeDate", 'sla_due("publicity")'),
    ("timeDuration", '"P2D"'),
]


def test_check_script_answers_as_deploy_does_and_only_to_designers(world: WebWorld) -> None:
    designer = _api_client(world, "designer")
    for kind, text, code, line in REFUSED:
        answer = designer.post("/api/studio/check-script", json={"kind": kind, "text": text})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["ok"] is False, (kind, text)
        problem = body["problems"][0]
        assert (problem["code"], problem["line"]) == (code, line), problem
        assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["message"])
    administrator = _api_client(world, "admin")
    for kind, text in ACCEPTED:
        answer = administrator.post("/api/studio/check-script", json={"kind": kind, "text": text})
        assert answer.json() == {"ok": True, "problems": []}, (kind, text)
    for username in ("jb_dongcheng", "audit", "xl_yangliu"):
        client = _api_client(world, username)
        assert client.get("/api/studio/catalog").status_code == 403
        refused = client.post("/api/studio/check-script", json={"kind": "script", "text": "x = 1"})
        assert refused.status_code == 403
    assert world.client().get("/api/studio/catalog").status_code == 401
