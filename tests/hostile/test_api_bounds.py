"""Hostile requests to the HTTP API: every one is refused with a 4xx in the
standard error shape (``code``, Chinese ``message``, ``kind``, located
``problems``), stores nothing, and leaves the server answering."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.errors import DeploymentRefused
from engine.service.facade import Engine
from integrations.sql import SqlStore
from jiuzhu.api_hygiene import JSON_DEPTH_LIMIT
from jiuzhu.demo_cases import load_households, opening
from jiuzhu.wiring import deploy_paths
from tests.support.start_world import real_world
from tests.support.web_support import TOKEN, WebWorld

MACHINE = {"Authorization": f"Bearer {TOKEN}"}
UNIT = "qinghe.dongcheng.yangliu"
HOUSEHOLD = load_households()["刘桂芳"]


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    return real_world(make_store, clock, db_url)


def _standard(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"code", "message", "kind", "problems"} and body["code"] == code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]  # said in Chinese
    return body


def _nested(depth: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for _ in range(depth - 1):
        data = {"a": data}
    return data


def _still_serving(world: WebWorld) -> None:
    assert world.client().get("/healthz").status_code == 200
    assert world.client().get("/api/processes", headers=MACHINE).status_code == 200


def test_deeply_nested_data_is_refused_located_and_stores_nothing(world: WebWorld) -> None:
    client = world.client()
    start = "/api/processes/dibao/instances"
    r = client.post(start, json={"data": _nested(400), "org_unit": UNIT}, headers=MACHINE)
    [problem] = _standard(r, 422, "REQUEST_INVALID")["problems"]
    assert problem["field"] == "body/data" and f"最多 {JSON_DEPTH_LIMIT} 层" in problem["message"]
    # Deeper than the JSON parser goes: an unreadable body, on the lean completion route too.
    deep = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    json_type = {**MACHINE, "content-type": "application/json"}
    _standard(client.post(start, content=deep, headers=json_type), 400, "REQUEST_BODY_UNREADABLE")
    complete = "/api/instances/x/tasks/y/complete"
    _standard(client.post(complete, content=deep, headers=json_type), 400, "REQUEST_BODY_UNREADABLE")
    # The limit is the API's, not the form's: data nested within it reaches the form checks.
    r = client.post(start, json={"data": _nested(JSON_DEPTH_LIMIT), "org_unit": UNIT}, headers=MACHINE)
    assert r.status_code == 422 and r.json()["code"] == "START_DATA_UNDECLARED"
    assert world.engine.list_instances() == []
    _still_serving(world)


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_the_version_must_be_an_integer(world: WebWorld, version: Any) -> None:
    body = {"data": opening(HOUSEHOLD), "org_unit": UNIT, "version": version}
    r = world.client().post("/api/processes/dibao/instances", json=body, headers=MACHINE)
    [problem] = _standard(r, 422, "REQUEST_INVALID")["problems"]
    assert problem["field"] == "body/version" and "整数" in problem["message"]
    assert world.engine.list_instances() == []


def test_start_refuses_big_strings_an_unknown_unit_and_ignores_a_forged_actor(world: WebWorld) -> None:
    client = world.client()
    start = "/api/processes/dibao/instances"
    big = {"data": {**opening(HOUSEHOLD), "remark": "x" * 20_000_000}, "org_unit": UNIT}
    _standard(client.post(start, json=big, headers=MACHINE), 413, "BODY_TOO_LARGE")
    key = {"data": opening(HOUSEHOLD), "org_unit": UNIT, "business_key": "K" * 1024 * 1024}
    _standard(client.post(start, json=key, headers=MACHINE), 413, "BODY_TOO_LARGE")
    key["business_key"] = "K" * 101
    [problem] = _standard(client.post(start, json=key, headers=MACHINE), 422, "REQUEST_INVALID")["problems"]
    assert problem["field"] == "body/business_key"
    unknown = {"data": opening(HOUSEHOLD), "org_unit": "nowhere"}
    [problem] = _standard(client.post(start, json=unknown, headers=MACHINE), 422, "ORG_UNIT_UNKNOWN")["problems"]
    assert problem["field"] == "org_unit"
    assert world.engine.list_instances() == []
    forged = {**MACHINE, "X-Actor": "a" * 100_000}
    r = client.post(start, json={"data": opening(HOUSEHOLD), "org_unit": UNIT}, headers=forged)
    assert r.status_code == 201, r.text
    [created] = world.engine.events(r.json()["id"])[:1]
    assert created.actor == "system:machine"  # the token's principal, never the header


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/sla/report?since=0001-01-01&until=2026-01-01", "query/since"),
        ("/api/sla/report?since=2026-01-01&until=9999-12-31", "query/until"),
        ("/api/sla/report?since=1899-12-31&until=2026-01-01", "query/since"),
        ("/api/calendar/add-workdays?start=9999-12-30&n=5", "query/start"),
        ("/api/calendar/add-workdays?start=2026-12-30&n=50000000", "query/n"),
        ("/api/calendar/2101", "path/year"),
        ("/api/calendar/1899", "path/year"),
    ],
)
def test_dates_and_years_stay_within_1900_to_2100(world: WebWorld, path: str, field: str) -> None:
    [problem] = _standard(world.client().get(path, headers=MACHINE), 422, "REQUEST_INVALID")["problems"]
    assert problem["field"] == field
    _still_serving(world)


def test_the_range_itself_is_answered(world: WebWorld) -> None:
    client = world.client()
    assert client.get("/api/sla/report?since=1900-01-01&until=2100-12-31", headers=MACHINE).status_code == 200
    assert client.get("/api/calendar/2100", headers=MACHINE).status_code == 200
    # Not only for the system token: the guard finds the route behind its {year:int} convertor.
    assert world.signed_in("xl_yangliu").get("/api/calendar/2026").status_code == 200


def test_a_get_on_a_post_only_path_is_405_and_an_unknown_path_404(world: WebWorld) -> None:
    client = world.client()
    _standard(client.get("/api/calendar/schedules", headers=MACHINE), 405, "METHOD_NOT_ALLOWED")
    _standard(client.delete("/api/processes", headers=MACHINE), 405, "METHOD_NOT_ALLOWED")
    _standard(client.get("/api/calendar/next-year", headers=MACHINE), 404, "NOT_FOUND")
    _standard(client.get("/api/no-such-thing", headers=MACHINE), 404, "NOT_FOUND")
    body = b"\xff\xfe{"  # not UTF-8
    json_type = {**MACHINE, "content-type": "application/json"}
    _standard(client.post("/api/tokens", content=body, headers=json_type), 400, "REQUEST_BODY_UNREADABLE")


@pytest.mark.parametrize(
    "files",
    [
        [("junk.txt", b"hello junk")],
        [("junk.bin", bytes(range(256)))],
        [("form-schema.json", b"{}"), ("notes.md", b"# notes")],
    ],
)
def test_the_api_deploy_refuses_what_the_cli_refuses(
    world: WebWorld, make_engine_for: Callable[..., Engine], tmp_path: Any, files: list[tuple[str, bytes]]
) -> None:
    before = len(world.engine.versions())
    upload = [("files", (name, content)) for name, content in files]
    r = world.client().post("/api/deployments", files=upload, headers=MACHINE)
    body = _standard(r, 422, "DEPLOYMENT_REFUSED")
    [problem] = body["problems"]
    assert problem["code"] == "DEPLOY_NO_MODEL" and problem["file"] in [name for name, _ in files]
    assert len(world.engine.versions()) == before
    # The CLI's way in, on the same files from disk.
    for name, content in files:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(DeploymentRefused) as refused:
        deploy_paths(make_engine_for(), [tmp_path / name for name, _ in files], None, actor="designer")
    assert [p.code for p in refused.value.errors] == ["DEPLOY_NO_MODEL"]


def test_partner_bodies_are_bounded_and_typed(world: WebWorld) -> None:
    client = world.client()
    fetch = "/api/external/fetch-and-lock"
    for body in ({"worker_id": "w", "max_tasks": True}, {"worker_id": "w", "topics": ["x" * 201]}):
        r = client.post(fetch, json=body, headers={"Authorization": "Bearer jzp_x"})
        _standard(r, 422, "REQUEST_INVALID")
    complete = "/api/external/h1/complete"
    r = client.post(complete, json={"lock_token": "t", "result": _nested(200)}, headers=MACHINE)
    [problem] = _standard(r, 422, "REQUEST_INVALID")["problems"]
    assert problem["field"] == "body/result"
    json.dumps(r.json())
