"""The sample process end to end over HTTP, with the server rebuilt from the
database before every request, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.clock import FixedClock
from engine.service.facade import Engine
from jiuzhu.api import create_app
from jiuzhu.settings import Settings
from tests.conftest import FORMS, ROOT, SAMPLE

TOKEN = "machine-token"
MACHINE = {"Authorization": f"Bearer {TOKEN}"}  # the configured system token: acts as system:machine


def settings(db_url: str, token: str | None = TOKEN) -> Settings:
    return Settings.from_env({"DATABASE_URL": db_url, **({"JIUZHU_API_TOKEN": token} if token else {})})


def machine(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, headers=MACHINE)


def test_sample_process_over_http_with_restarts(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    def server() -> TestClient:
        # A new engine, store and app on the same database: nothing survives
        # in memory from one step to the next.
        return machine(create_app(make_engine_for(), settings(db_url)))

    files = [("files", (p.name, p.read_bytes())) for p in (SAMPLE, *sorted((FORMS / "sample").glob("*.json")))]
    r = server().post("/api/deployments", files=files)
    assert r.status_code == 201, r.text
    assert [v["process_id"] for v in r.json()["versions"]] == ["material_review"]

    r = server().post("/api/processes/material_review/instances", json={"data": {}, "business_key": "DB-2026-001"})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]

    def complete(element: str, data: dict[str, Any]) -> httpx2.Response:
        tasks = server().get(f"/api/instances/{iid}/tasks").json()
        task = next(t for t in tasks if t["element_id"] == element)
        return server().post(f"/api/instances/{iid}/tasks/{task['id']}/complete", json={"data": data})

    bad = complete("submit_application", {"applicant_name": "赵", "household_size": -1})
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["problems"]}
    assert fields == {"applicant_name", "household_size"}
    assert all(p["message"] and p["code"].startswith("FORM_") for p in bad.json()["problems"])

    assert complete("submit_application", {"applicant_name": "赵六", "household_size": 4}).status_code == 200
    clock.advance(timedelta(days=2, minutes=1))
    assert server().post("/api/timers/fire").json() == {"instances": 1}
    assert complete("review_materials", {"materials_complete": True}).status_code == 200
    done = complete("approve", {"approved": True, "monthly_amount": 1200.5})
    assert done.status_code == 200 and done.json()["status"] == "completed"

    events = server().get(f"/api/instances/{iid}/events").json()
    types = [e["type"] for e in events]
    assert types.count("task_completed") == 3
    assert {e["actor"] for e in events if e["type"] == "task_completed"} == {"system:machine"}
    assert {"timer_fired", "gateway_decided", "instance_completed"} <= set(types)
    assert server().get(f"/api/instances/{iid}/verify").json()["ok"] is True
    assert server().get("/api/verify").json()["ok"] is True


def test_errors_are_json_with_codes(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    client = machine(create_app(make_engine_for(), settings(db_url)))
    r = client.get("/api/instances/does-not-exist")
    assert r.status_code == 404 and r.json()["code"] == "INSTANCE_NOT_FOUND"
    r = client.post("/api/processes/none/instances", json={"data": []})
    assert r.status_code == 422 and r.json()["code"] == "REQUEST_INVALID"
    broken = (
        b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        b'<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
    )
    r = client.post("/api/deployments", files=[("files", ("broken.bpmn", broken))])
    assert r.status_code == 422 and r.json()["code"] == "DEPLOYMENT_REFUSED"
    assert all(p["file"] == "broken.bpmn" for p in r.json()["problems"])


def test_token_is_required_when_configured(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    client = TestClient(create_app(make_engine_for(), settings(db_url, token="s3cret")))
    assert client.get("/api/processes").status_code == 401
    assert client.get("/api/processes", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_without_a_configured_token_the_api_is_closed(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    """No principal, no call: an app built without a token is not an open API acting as nobody."""
    client = TestClient(create_app(make_engine_for(), settings(db_url, token=None)))
    r = client.get("/api/processes")
    assert r.status_code == 401 and r.json()["code"] == "NOT_AUTHENTICATED" and "登录" in r.json()["message"]
    r = client.get("/api/processes", headers={"Authorization": "Bearer "})
    assert r.status_code == 401 and r.json()["code"] == "API_TOKEN_INVALID"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_jiuzhu_serve_demo_starts_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    key_file = tmp_path / "digest-key.pem"  # missing: serve --demo makes it and says where
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "JIUZHU_API_TOKEN": "t",
        "JIUZHU_DIGEST_KEY_FILE": str(key_file),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "jiuzhu.cli", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90  # starting is not what this measures: a busy machine takes 30 s and more
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/processes", headers={"Authorization": "Bearer t"})
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not start")
        assert r.status_code == 200
        assert "material_review" in {v["process_id"] for v in r.json()}
        key = httpx.get(f"http://127.0.0.1:{port}/api/audit/digest-key", headers={"Authorization": "Bearer t"})
        assert key.status_code == 200 and key.json()["algorithm"] == "Ed25519"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert f"http://127.0.0.1:{port}/docs" in output
    assert f"审计摘要签名密钥：已生成 {key_file}（公钥 {key.json()['public_key']}" in output
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0


def test_bad_values_are_422_not_500(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    engine = make_engine_for()
    client = machine(create_app(engine, settings(db_url)))
    files = [("files", (p.name, p.read_bytes())) for p in (SAMPLE, *sorted((FORMS / "sample").glob("*.json")))]
    assert client.post("/api/deployments", files=files).status_code == 201
    assert client.get("/api/instances", params={"limit": -1}).status_code == 422
    assert client.post("/api/processes/material_review/instances", json={"version": 2**40}).status_code == 422
    assert client.get("/api/instances/abc%00def").status_code in (404, 422)
    r = client.post("/api/processes/material_review/instances", json={"business_key": "A\u0000B"})
    assert r.status_code in (201, 422)
    iid = client.post("/api/processes/material_review/instances", json={}).json()["id"]
    task = client.get(f"/api/instances/{iid}/tasks").json()[0]
    nan = client.post(
        f"/api/instances/{iid}/tasks/{task['id']}/complete",
        content='{"data": {"applicant_name": "张三", "household_size": NaN}}',
        headers={"Content-Type": "application/json"},
    )
    assert nan.status_code == 422 and nan.json()["problems"][0]["field"] == "household_size"


def test_start_form_is_published_and_enforced_over_http(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    client = machine(create_app(make_engine_for(), settings(db_url)))
    fixtures = ROOT / "tests" / "fixtures" / "engine"
    paths = (fixtures / "start_form.bpmn", fixtures / "start-form-schema.json")
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    assert client.post("/api/deployments", files=files).status_code == 201
    listed = next(p for p in client.get("/api/processes").json() if p["process_id"] == "start_form")
    assert listed["start_form"]["schema_file"].endswith("start-form-schema.json")
    assert listed["start_form"]["schema"]["required"] == ["applicant_name", "id_number"]
    r = client.post("/api/processes/start_form/instances", json={"data": {"applicant_name": "王五"}})
    assert r.status_code == 422
    assert [(p["element_id"], p["field"]) for p in r.json()["problems"]] == [("apply", "id_number")]
    data = {"applicant_name": "王五", "id_number": "11010519491231002X"}
    ok = client.post("/api/processes/start_form/instances", json={"data": data})
    assert ok.status_code == 201, ok.text


def test_completion_body_is_refused_like_any_other_body(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    engine = make_engine_for()
    client = machine(create_app(engine, settings(db_url)))
    files = [("files", (p.name, p.read_bytes())) for p in (SAMPLE, *sorted((FORMS / "sample").glob("*.json")))]
    assert client.post("/api/deployments", files=files).status_code == 201
    view = client.post("/api/processes/material_review/instances", json={}).json()
    path = f"/api/instances/{view['id']}/tasks/{view['ready_tasks'][0]['id']}/complete"
    json_type = {"Content-Type": "application/json"}
    for content in ("", "not json", "[1, 2]", '{"data": {}, "expected_revision": "soon"}'):
        r = client.post(path, content=content, headers=json_type)
        assert r.status_code == 422 and r.json()["code"] == "REQUEST_INVALID", content
    fields = [p["field"] for p in r.json()["problems"]]
    assert fields == ["body/expected_revision"]
    form = {"applicant_name": "赵六", "household_size": 4}
    stale = client.post(path, json={"data": form, "expected_revision": view["revision"] + 1})
    assert stale.status_code == 409 and stale.json()["code"] == "REVISION_MISMATCH"
    # X-Actor once let the token's holder name anyone as the actor; it is ignored now.
    done = client.post(path, json={"data": form, "expected_revision": view["revision"]}, headers={"X-Actor": "xly"})
    assert done.status_code == 200 and done.json()["revision"] == view["revision"] + 1
    completed = [e for e in client.get(f"/api/instances/{view['id']}/events").json() if e["type"] == "task_completed"]
    assert [(e["actor"], e["payload"]["form_data"]) for e in completed] == [("system:machine", form)]
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/api/instances/{instance_id}/tasks/{task_id}/complete"]
    body = operation["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CompleteRequest"}  # one named schema (tests/jiuzhu/test_openapi.py)
    assert set(document["components"]["schemas"]["CompleteRequest"]["properties"]) == {"data", "expected_revision"}
    assert "x-actor" not in {p["name"].lower() for p in operation["post"].get("parameters", [])}
