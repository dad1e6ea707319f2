"""SLA state, extension, supervision, report and calendar over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient

from engine.clock import SHANGHAI, FixedClock
from engine.service.facade import Engine
from jiuzhu.api import create_app
from jiuzhu.settings import Settings
from tests.conftest import FORMS, PROCESSES


def client_for(engine: Engine, db_url: str) -> TestClient:
    app = create_app(engine, Settings.from_env({"DATABASE_URL": db_url, "JIUZHU_API_TOKEN": "t"}))
    return TestClient(app, raise_server_exceptions=False, headers={"Authorization": "Bearer t"})


def test_sla_over_http(make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock) -> None:
    clock.set(datetime(2026, 9, 21, 9, 0, tzinfo=SHANGHAI))
    client = client_for(make_engine_for(), db_url)
    uploads = [("files", (p.name, p.read_bytes())) for p in sorted((PROCESSES / "sla").glob("*.sla.json"))]
    uploads += [("files", (p.name, p.read_bytes())) for p in (PROCESSES / "sla_skeleton").glob("*.bpmn")]
    uploads += [("files", (p.name, p.read_bytes())) for p in (FORMS / "sla_skeleton").glob("*.json")]
    assert client.post("/api/deployments", files=uploads).status_code == 201

    r = client.post("/api/processes/sla_skeleton/instances", json={"region": "CN-ZJ-NB", "org_unit": "宁波某街道"})
    assert r.status_code == 201 and r.json()["policy"].startswith("dibao.zhejiang@")
    iid = r.json()["id"]
    [overall] = client.get(f"/api/instances/{iid}/sla").json()
    assert (overall["stage"], overall["limit"], overall["state"], overall["state_label"]) == (
        "overall",
        20,
        "on_time",
        "正常",
    )
    assert overall["due_on"] == "2026-10-26" and (overall["days_left"], overall["unit"]) == (20, "working_days")
    assert "working_days_left" not in overall

    bad = client.post(f"/api/instances/{iid}/sla/extend", json={"reason": "x", "approver": "y", "approver_role": "村"})
    assert bad.status_code == 422 and bad.json()["code"] == "SLA_EXTENSION_APPROVER"
    ok = client.post(
        f"/api/instances/{iid}/sla/extend", json={"reason": "异地核查", "approver": "王", "approver_role": "县级民政局"}
    )
    assert ok.status_code == 200
    assert client.get(f"/api/instances/{iid}/sla").json()[0]["state"] == "extended"

    clock.set(datetime(2026, 9, 25, 0, 0, tzinfo=SHANGHAI))
    task = client.get(f"/api/instances/{iid}/tasks").json()[0]
    client.post(f"/api/instances/{iid}/tasks/{task['id']}/complete", json={"data": {"materials_complete": True}})
    assert client.get("/api/supervisions").json() == []
    report = client.get("/api/sla/report", params={"since": "2026-09-01", "until": "2026-09-30"}).json()
    assert report == []  # nothing closed yet: the overall clock runs on

    assert (
        client.get("/api/calendar/add-workdays", params={"start": "2026-09-30", "n": 1}).json()["date"] == "2026-10-08"
    )
    shown = client.get("/api/calendar/2027").json()
    assert shown["status"] == "provisional"
    bad_schedule = client.post("/api/calendar/schedules", json={"year": 2027})
    assert bad_schedule.status_code == 422 and bad_schedule.json()["code"] == "CALENDAR_FILE_INVALID"
