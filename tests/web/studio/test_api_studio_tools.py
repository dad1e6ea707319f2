"""The studio's form and time-limit tools over HTTP, as the editors call them:
a signed-in designer's session with its CSRF header."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from engine.deploy.model import SourceFile
from engine.workcal.calendar import PeriodKind
from tests.conftest import PROCESSES
from tests.support.web_support import WebWorld, csrf_of

SKELETON_POLICY = PROCESSES / "sla" / "dibao.national.sla.json"
ID_FORM: dict[str, Any] = {
    "type": "object",
    "title": "探访关爱登记",
    "required": ["name", "id_number"],
    "properties": {
        "name": {"type": "string", "title": "被探访人姓名"},
        "id_number": {"type": "string", "title": "被探访人身份证号", "format": "cn-id-number"},
        "found_difficulty": {"type": "boolean", "title": "是否发现困难"},
        "difficulty": {"type": "string", "title": "困难情况"},
    },
    "allOf": [
        {
            "if": {"properties": {"found_difficulty": {"const": True}}, "required": ["found_difficulty"]},
            "then": {"required": ["difficulty"]},
        }
    ],
}


_sessions: dict[tuple[int, str], tuple[TestClient, dict[str, str]]] = {}


def session(world: WebWorld, username: str) -> tuple[TestClient, dict[str, str]]:
    key = (id(world), username)
    if key not in _sessions:  # signing in hashes a password: once per user
        client = world.signed_in(username)
        _sessions[key] = client, {"X-CSRF-Token": csrf_of(client.get("/account/tokens").text)}
    return _sessions[key]


def call(world: WebWorld, route: str, body: dict[str, Any], username: str = "designer") -> Any:
    client, headers = session(world, username)
    answer = client.post(f"/api/studio/{route}", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_only_designers_and_administrators_use_the_tools(world: WebWorld) -> None:
    body = {"schema": ID_FORM}
    for username, status in (("jb_dongcheng", 403), ("designer", 200), ("admin", 200)):
        client, headers = session(world, username)
        assert client.post("/api/studio/form-preview", json=body, headers=headers).status_code == status, username
    client, _ = session(world, "designer")
    assert client.post("/api/studio/form-preview", json=body, headers={"X-CSRF-Token": "x"}).status_code == 403
    assert world.client().post("/api/studio/form-preview", json=body).status_code == 401


def test_preview_is_drawn_by_the_task_pages_renderer(world: WebWorld) -> None:
    answer = call(world, "form-preview", {"name": "forms/tanfang-schema.json", "schema": ID_FORM})
    assert answer["problems"] == []
    html = answer["html"]
    for key, field in ID_FORM["properties"].items():
        assert f'name="f/{key}"' in html and field["title"] in html
    assert "试填" in html


def test_preview_locates_what_deploy_refuses(world: WebWorld) -> None:
    broken = {**ID_FORM, "properties": {**ID_FORM["properties"], "age": {"type": "integr", "title": "年龄"}}}
    answer = call(world, "form-preview", {"name": "forms/tanfang-schema.json", "schema": broken})
    [problem] = answer["problems"]
    assert problem["code"] == "FORM_SCHEMA_INVALID" and problem["field"] == "properties/age/type"
    assert problem["file"] == "forms/tanfang-schema.json" and problem["severity"] == "error"
    dialect = {"type": "object", "properties": {"a": {"type": "string", "minimumDate": "today"}}}
    [problem] = call(world, "form-preview", {"schema": dialect})["problems"]
    assert problem["code"] == "FORM_DIALECT" and problem["field"] == "properties/a"


def test_try_locates_a_bad_id_number_in_chinese(world: WebWorld) -> None:
    posted = [["f/name", "王芳"], ["f/id_number", "110101199003070000"], ["f/found_difficulty", "true"]]
    answer = call(world, "form-try", {"schema": ID_FORM, "posted": posted})
    assert answer["valid"] is False
    errors = {e["path"]: e for e in answer["errors"]}
    assert errors["id_number"]["code"] == "FORM_ID_NUMBER"
    assert errors["id_number"]["label"] == "被探访人身份证号"
    assert "校验码" in errors["id_number"]["message"]
    assert errors["difficulty"]["code"] == "FORM_REQUIRED"  # the if/then requirement, as the engine checks it
    assert "校验码" in answer["html"]  # the form redrawn with the message at the field
    typed = call(world, "form-try", {"schema": ID_FORM, "data": {"name": "王芳", "id_number": "11010119900307"}})
    assert [(e["path"], e["code"]) for e in typed["errors"]] == [("id_number", "FORM_ID_NUMBER")]


def test_try_accepts_what_the_engine_accepts(world: WebWorld) -> None:
    from engine.forms.formats import id_number_check_char

    first17 = "11010119900307123"
    good = first17 + id_number_check_char(first17)
    posted = [["f/name", "王芳"], ["f/id_number", good]]
    answer = call(world, "form-try", {"schema": ID_FORM, "posted": posted})
    assert answer["valid"] is True and answer["errors"] == []
    assert answer["data"] == {"name": "王芳", "id_number": good}


def test_policy_check_names_an_unknown_unit(world: WebWorld) -> None:
    policy = json.loads(SKELETON_POLICY.read_text(encoding="utf-8"))
    policy["stages"]["publicity"]["unit"] = "days"
    answer = call(world, "policy-check", {"name": "dibao.national.sla.json", "text": json.dumps(policy)})
    [problem] = answer["problems"]
    assert problem["code"] == "SLA_POLICY_INVALID" and problem["field"] == "stages.publicity.unit"
    assert "工作日" in problem["message"] and answer["policy"] is None


def test_policy_check_refuses_dropping_a_stage_a_deployed_process_names(world: WebWorld) -> None:
    policy = json.loads(SKELETON_POLICY.read_text(encoding="utf-8"))
    del policy["stages"]["township_review"]
    answer = call(world, "policy-check", {"name": "dibao.national.sla.json", "text": json.dumps(policy)})
    assert {p["code"] for p in answer["problems"]} == {"SLA_STAGE_UNKNOWN"}
    assert all("township_review" in p["message"] for p in answer["problems"])
    intact = call(world, "policy-check", {"name": "x.sla.json", "text": SKELETON_POLICY.read_text(encoding="utf-8")})
    assert intact["problems"] == [] and intact["regions"][0] == "CN"


def test_dry_run_across_national_day_gives_the_engines_deadlines(world: WebWorld) -> None:
    accepted = date(2026, 9, 28)
    text = SKELETON_POLICY.read_text(encoding="utf-8")
    answer = call(world, "policy-dryrun", {"text": text, "region": "CN", "accepted_on": accepted.isoformat()})
    policy = json.loads(text)
    limits = {"overall": policy["overall"], **policy["stages"]}
    assert [s["stage"] for s in answer["stages"]] == list(limits)
    calendar = world.engine.calendar()
    spans_holiday = spans_makeup = False
    for stage in answer["stages"]:
        limit = limits[stage["stage"]]
        unit = PeriodKind(limit["unit"])
        expected = calendar.deadline(
            accepted, limit["limit"], unit, region="CN", roll_to_working_day=limit.get("roll_to_working_day", True)
        ).date
        assert stage["deadline"] == expected.isoformat(), stage["name"]
        assert stage["start"] == accepted.isoformat()
        assert stage["unit_label"] == {"working_days": "工作日", "natural_days": "自然日"}[limit["unit"]]
        listed_off = {d for b in stage["holidays"] for d in b["dates"]}
        listed_on = {d for b in stage["workdays"] for d in b["dates"]}
        days = [accepted + timedelta(days=i) for i in range(1, (expected - accepted).days + 1)]
        weekday_off = {d.isoformat() for d in days if d.weekday() < 5 and not calendar.is_working_day(d, region="CN")}
        weekend_on = {d.isoformat() for d in days if d.weekday() >= 5 and calendar.is_working_day(d, region="CN")}
        assert weekday_off <= listed_off and listed_on == weekend_on
        assert all(not calendar.is_working_day(date.fromisoformat(d), region="CN") for d in listed_off)
        spans_holiday |= bool(weekday_off)
        spans_makeup |= bool(weekend_on)
    assert spans_holiday and spans_makeup  # the input does cross 国庆 and its 调休


def test_dry_run_of_a_broken_policy_is_refused_located(world: WebWorld) -> None:
    client, headers = session(world, "designer")
    body = {"text": '{"id": "x"', "accepted_on": "2026-09-28"}
    answer = client.post("/api/studio/policy-dryrun", json=body, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["code"] == "SLA_POLICY_INVALID"


def test_deploy_accepts_a_form_the_tools_pass(world: WebWorld) -> None:
    # What the editor calls clean is what publishing takes: the same checks.
    assert call(world, "form-preview", {"schema": ID_FORM})["problems"] == []
    bpmn = (PROCESSES / "sla_skeleton" / "sla_skeleton.bpmn").read_text(encoding="utf-8")
    model = bpmn.replace("sla-skeleton-accept-schema.json", "tanfang-schema.json")
    files = [SourceFile("sla_skeleton.bpmn", model.encode())]
    form = SourceFile("tanfang-schema.json", json.dumps(ID_FORM, ensure_ascii=False).encode())
    result = world.engine.deploy(files, lambda _b, name: form if name == form.name else None, actor="designer")
    assert result.created


CATASTROPHIC = {
    "type": "object",
    "properties": {"code": {"type": "string", "title": "编号", "pattern": "^(a+)+$"}},
}


def test_a_catastrophic_pattern_is_refused_located_and_never_run(world: WebWorld) -> None:
    # Run by Python's re, this pattern against thirty "a" and a "!" would hold the worker for minutes.
    tried = call(world, "form-try", {"schema": CATASTROPHIC, "data": {"code": "a" * 30 + "!"}})
    assert tried["valid"] is False and tried["data"] is None
    [problem] = tried["problems"]
    assert (problem["code"], problem["field"]) == ("FORM_PATTERN_UNSAFE", "properties/code/pattern")
    assert "量词嵌套" in problem["message"] and "^(a+)+$" in problem["message"]
    shown = call(world, "form-preview", {"schema": CATASTROPHIC})
    assert [p["code"] for p in shown["problems"]] == ["FORM_PATTERN_UNSAFE"]
