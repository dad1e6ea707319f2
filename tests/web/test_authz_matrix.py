"""The authorization matrix: every route of the app × every role × a case in
or out of the caller's scope → allowed or denied, and 0 leaks.

Routes are enumerated from the app itself: a route that is neither public nor
listed in ``EXPECTED`` fails the test, so a new route cannot ship unprotected.
Allowed means authorization passed (the route may still refuse the request
for a business reason, e.g. 409/422); denied means 401/403 or the sign-in
redirect. Besides status codes, lists must not show the case, and an action
that was denied must have changed nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service.facade import Engine
from jiuzhu.accounts import hash_password
from jiuzhu.web.routes import flat_routes
from tests.support.web_support import TOKEN, WebWorld, csrf_of, make_world

CASE_ORG = "qinghe.dongcheng.yangliu"
APPLICANT = "杨柳张三"
PUBLIC = {
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("GET", "/healthz"),
    ("GET", "/"),  # a redirect to /inbox, which is protected
    ("GET", "/static/vendor/htmx.min.js"),
    # The studio's modeler and its styles (jiuzhu/web/vendor.py STUDIO_ASSETS): public package files.
    ("GET", "/static/vendor/studio/bpmn-modeler.js"),
    ("GET", "/static/vendor/studio/diagram-js.css"),
    ("GET", "/static/vendor/studio/bpmn-js.css"),
    ("GET", "/static/vendor/studio/bpmn-embedded.css"),
    ("GET", "/static/vendor/studio/dmn-modeler.js"),
    ("GET", "/static/vendor/studio/dmn-js-shared.css"),
    ("GET", "/static/vendor/studio/dmn-js-decision-table.css"),
    ("GET", "/static/vendor/studio/dmn-js-decision-table-controls.css"),
    ("GET", "/static/vendor/studio/dmn-embedded.css"),
    ("GET", "/static/vendor/studio/token-simulation.js"),
    ("GET", "/static/vendor/studio/token-simulation.css"),
    ("GET", "/static/vendor/studio/bpmnlint.js"),
    ("GET", "/static/vendor/studio/code-editor.js"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
}


@dataclass(frozen=True)
class Caller:
    name: str  # a demo username, "anonymous", "machine" or "token:<username>" (the user's own API token)
    roles: frozenset[str]
    sees_case: bool  # the case's org unit is in the caller's scope
    handler: bool  # may act on the case's 受理 task (lane 乡镇(街道)经办人, in scope)


def _caller(name: str, roles: set[str], sees: bool = True, handler: bool = False) -> Caller:
    return Caller(name, frozenset(roles), sees, handler)


CALLERS = [
    _caller("anonymous", set(), sees=False),
    _caller("machine", {"admin"}, handler=True),
    _caller("xl_yangliu", {"village_assistant"}),
    _caller("xl_shangzhuang", {"village_assistant"}, sees=False),
    _caller("jb_dongcheng", {"township_handler"}, handler=True),
    _caller("jb_xiwan", {"township_handler"}, sees=False),
    _caller("sh_dongcheng", {"township_reviewer"}),
    _caller("sh_nanshan", {"township_reviewer"}, sees=False),
    _caller("mz_county", {"county_officer"}),
    _caller("hd_center", {"check_center"}),
    _caller("xt_convener", {"coordination_convener"}),
    _caller("xt_member", {"coordination_member"}),
    _caller("lb_power", {"partner"}, sees=False),
    _caller("lbfz_power", {"partner_supervisor"}, sees=False),
    _caller("audit", {"auditor"}),
    _caller("designer", {"designer"}, sees=False),
    _caller("admin", {"admin"}, handler=True),
    # A user's API token acts as the user: the same roles and scope, but no pages.
    _caller("token:jb_dongcheng", {"township_handler"}, handler=True),
    _caller("token:xl_shangzhuang", {"village_assistant"}, sees=False),
]

SIGNED_IN = {"village_assistant", "township_handler", "township_reviewer", "county_officer", "check_center"} | {
    "coordination_convener",
    "coordination_member",
    "partner",
    "auditor",
    "designer",
    "admin",
}
CASEWORKERS = SIGNED_IN - {"designer"}


def nobody(_c: Caller) -> bool:
    return False


def anyone(c: Caller) -> bool:
    return bool(c.roles)


def role(*names: str) -> Callable[[Caller], bool]:
    return lambda c: bool(c.roles & set(names))


def role_on_case(*names: str) -> Callable[[Caller], bool]:
    return lambda c: bool(c.roles & set(names)) and c.sees_case


def handler(c: Caller) -> bool:
    return c.handler


def session_only(rule: Callable[[Caller], bool]) -> Callable[[Caller], bool]:
    """Pages take a session, never an API token."""
    return lambda c: c.name != "machine" and not c.name.startswith("token:") and rule(c)


def by_token_else(token: Callable[[Caller], bool], session: Callable[[Caller], bool]) -> Callable[[Caller], bool]:
    """A token caller by one rule, a signed-in user by another."""
    return lambda c: token(c) if c.name == "machine" or c.name.startswith("token:") else session(c)


STARTERS = ("village_assistant", "township_handler", "county_officer", "admin")
CASE_SEERS = tuple(CASEWORKERS)
HISTORY_READERS = ("auditor", "county_officer", "admin")
CASE_PAGES = tuple(CASEWORKERS - {"partner"})  # case list, case page, 台账, dashboard, notices
EXPECTED: dict[tuple[str, str], Callable[[Caller], bool]] = {
    ("POST", "/api/deployments"): role("designer", "admin"),
    ("GET", "/api/studio/catalog"): role("designer", "admin"),
    ("POST", "/api/studio/check-script"): role("designer", "admin"),
    ("GET", "/api/processes"): anyone,
    ("GET", "/api/processes/{process_id}/versions"): anyone,
    # The system token keeps the route's roles; a person (signed in or by their own token) needs the
    # model's starterRoles, which sla_skeleton does not declare (no person starts it): only the administrator.
    ("POST", "/api/processes/{process_id}/instances"): lambda c: (
        role_on_case(*STARTERS)(c) if c.name == "machine" else role_on_case("admin")(c)
    ),
    ("GET", "/api/instances"): role(*CASEWORKERS),
    ("GET", "/api/instances/{instance_id}"): role_on_case(*CASE_SEERS),
    ("GET", "/api/instances/{instance_id}/tasks"): role_on_case(*CASE_SEERS),
    ("POST", "/api/instances/{instance_id}/tasks/{task_id}/complete"): handler,
    ("POST", "/api/instances/{instance_id}/retry"): role_on_case("county_officer", "admin"),
    ("POST", "/api/instances/{instance_id}/terminate"): role_on_case("county_officer", "admin"),
    ("GET", "/api/instances/{instance_id}/events"): role_on_case(*CASE_SEERS),
    ("GET", "/api/instances/{instance_id}/verify"): role_on_case("auditor", "admin"),
    ("GET", "/api/verify"): role("auditor", "admin"),
    ("GET", "/api/audit/digest-key"): anyone,
    ("POST", "/api/audit/instances/{instance_id}/replay"): role_on_case("auditor", "county_officer", "admin"),
    ("POST", "/api/timers/fire"): role("admin"),
    ("GET", "/api/instances/{instance_id}/sla"): role_on_case(*CASE_SEERS),
    ("POST", "/api/instances/{instance_id}/sla/extend"): role_on_case("county_officer", "admin"),
    ("GET", "/api/supervisions"): role(
        "county_officer", "township_reviewer", "township_handler", "partner_supervisor", "auditor", "admin"
    ),
    ("GET", "/api/sla/report"): role("county_officer", "auditor", "admin"),
    ("POST", "/api/calendar/schedules"): role("admin"),
    ("GET", "/api/calendar/add-workdays"): anyone,
    ("GET", "/api/calendar/{year}"): anyone,
    ("POST", "/signout"): session_only(anyone),
    ("GET", "/inbox"): session_only(anyone),
    ("POST", "/inbox/claim"): session_only(anyone),  # per task: see the effect check
    ("POST", "/inbox/reassign"): session_only(anyone),
    ("GET", "/tasks/{task_id}"): session_only(role_on_case(*CASE_SEERS)),
    ("POST", "/tasks/{task_id}"): session_only(handler),
    ("POST", "/tasks/{task_id}/claim"): session_only(handler),
    ("POST", "/tasks/{task_id}/unclaim"): session_only(role("admin")),  # nobody holds it
    ("POST", "/tasks/{task_id}/reassign"): session_only(handler),
    ("POST", "/tasks/{task_id}/send-back"): session_only(handler),
    ("GET", "/cases"): session_only(role(*CASE_PAGES)),
    ("GET", "/cases/new"): session_only(role("village_assistant", "township_handler", "admin")),
    # The matrix's process is sla_skeleton, whose model names no starterRoles: nobody opens it in the web;
    # tests/web/test_pages_start.py covers the real procedures role by role.
    ("GET", "/cases/new/{process_id}"): nobody,
    ("POST", "/cases/new/{process_id}"): nobody,
    ("GET", "/cases/ledger.xlsx"): session_only(role(*CASE_PAGES)),
    ("GET", "/dashboard"): session_only(role(*CASE_PAGES)),
    ("GET", "/cases/{instance_id}"): session_only(role_on_case(*CASE_PAGES)),
    ("GET", "/cases/{instance_id}/diagram.bpmn"): session_only(role_on_case(*CASE_PAGES)),
    ("GET", "/cases/{instance_id}/documents/{sha256}"): session_only(role_on_case(*CASE_PAGES)),
    ("GET", "/cases/{instance_id}/notices/{kind}.pdf"): session_only(role_on_case(*CASE_PAGES)),  # 409: no decision
    ("GET", "/cases/{instance_id}/dossier.zip"): session_only(role_on_case("auditor", "county_officer", "admin")),
    # 审计查询 and 入户抽查: the matrix's sample id is none (404 after authorization); a draw over a county
    # with no decided case is refused (400) after authorization.
    ("GET", "/audit"): session_only(role("auditor", "county_officer", "admin")),
    ("POST", "/audit/samples"): session_only(role("auditor", "county_officer", "admin")),
    ("GET", "/audit/samples/{sample_id}"): session_only(role("auditor", "county_officer", "admin")),
    ("POST", "/audit/cases/{instance_id}/replay"): session_only(role_on_case("auditor", "county_officer", "admin")),
    # 案件历史: the event list and one event's snapshot, for auditors and the county.
    ("GET", "/audit/cases/{instance_id}"): session_only(role_on_case(*HISTORY_READERS)),
    ("GET", "/audit/cases/{instance_id}/events/{seq}"): session_only(role_on_case(*HISTORY_READERS)),
    # 联办待办: partner department users only; the matrix's id is no handoff, so 404 after authorization.
    ("GET", "/partner"): session_only(role("partner", "partner_supervisor")),
    ("GET", "/partner/handoffs/{handoff_id}"): session_only(role("partner", "partner_supervisor")),
    ("POST", "/partner/handoffs/{handoff_id}/accept"): session_only(role("partner")),
    ("POST", "/partner/handoffs/{handoff_id}/return"): session_only(role("partner")),
    ("POST", "/partner/handoffs/{handoff_id}/report"): session_only(role("partner")),
    ("GET", "/api/outbox"): role("admin"),
    ("GET", "/outbox"): session_only(role("admin")),
    ("POST", "/outbox/{event_id}/requeue"): session_only(role("admin")),  # no such letter: a flash, after authorization
    ("POST", "/api/outbox/{event_id}/requeue"): role("admin"),  # 404: no such event, after authorization
    # Partner systems authenticate with their own API keys (tests/integrations/partner/);
    # no session and no machine token opens them.
    ("POST", "/api/external/fetch-and-lock"): nobody,
    ("POST", "/api/external/{handoff_id}/extend-lock"): nobody,
    ("POST", "/api/external/{handoff_id}/complete"): nobody,
    ("POST", "/api/external/{handoff_id}/fail"): nobody,
    ("POST", "/api/external/{handoff_id}/return"): nobody,
    # API tokens: every principal manages its own (the routes let administrators manage anyone's);
    # the matrix's token id is nobody's, so 404 after authorization.
    ("GET", "/api/tokens"): anyone,
    ("POST", "/api/tokens"): anyone,
    ("POST", "/api/tokens/{token_id}/revoke"): anyone,
    # The studio's stateless form and time-limit tools.
    ("POST", "/api/studio/form-preview"): role("designer", "admin"),
    ("POST", "/api/studio/form-try"): role("designer", "admin"),
    ("POST", "/api/studio/policy-check"): role("designer", "admin"),
    ("POST", "/api/studio/policy-dryrun"): role("designer", "admin"),
    ("GET", "/account/tokens"): session_only(anyone),
    ("POST", "/account/tokens"): session_only(anyone),
    ("POST", "/account/tokens/{token_id}/revoke"): session_only(anyone),
    ("GET", "/admin/tokens"): session_only(role("admin")),
    ("POST", "/admin/tokens"): session_only(role("admin")),
    # 流程设计: the version diff and the scenarios (rules as tests), designers and administrators only.
    ("GET", "/studio/{process_id}/diff"): session_only(role("designer", "admin")),
    ("GET", "/studio/{process_id}/scenarios"): session_only(role("designer", "admin")),
    ("GET", "/api/studio/procedures/{process_id}/diff"): role("designer", "admin"),
    ("POST", "/api/studio/drafts/{process_id}/scenarios"): role("designer", "admin"),
    # 试运行 of a draft and saving it as a scenario (the matrix's callers have no draft: 404 after authorization).
    ("POST", "/api/studio/drafts/{process_id}/dry-run"): role("designer", "admin"),
    ("POST", "/api/studio/drafts/{process_id}/dry-run/scenario"): role("designer", "admin"),
    # Sessions: everyone changes their own password; administrators end anyone's sessions
    # (the matrix's session id is nobody's: 404 after authorization).
    ("GET", "/account/password"): session_only(anyone),
    ("POST", "/account/password"): session_only(anyone),
    ("GET", "/admin/sessions"): session_only(role("admin")),
    ("POST", "/admin/sessions/{session_id}/end"): session_only(role("admin")),
    ("POST", "/admin/sessions/user/{username}/end"): session_only(role("admin")),
    # 流程设计: designers and administrators (the system token acts with the administrator's scope).
    ("GET", "/studio"): session_only(role("designer", "admin")),
    ("POST", "/studio/new"): session_only(role("designer", "admin")),
    ("POST", "/studio/import"): session_only(role("designer", "admin")),
    ("GET", "/studio/{process_id}"): session_only(role("designer", "admin")),
    ("GET", "/studio/{process_id}/versions/{version}.zip"): session_only(role("designer", "admin")),
    ("GET", "/api/studio/drafts/{process_id}"): role("designer", "admin"),
    ("PUT", "/api/studio/drafts/{process_id}/files/{name}"): role("designer", "admin"),
    ("DELETE", "/api/studio/drafts/{process_id}/files/{name}"): role("designer", "admin"),
    ("POST", "/api/studio/drafts/{process_id}/lint"): role("designer", "admin"),
    ("POST", "/api/studio/drafts/{process_id}/publish"): role("designer", "admin"),
    ("GET", "/api/studio/procedures/{process_id}/versions"): role("designer", "admin"),
    ("GET", "/api/studio/procedures/{process_id}/versions/{version}/files"): role("designer", "admin"),
}
# Routes whose object the matrix does not create: 404 after authorization is right.
ABSENT_OK = {("POST", "/api/outbox/{event_id}/requeue"), ("GET", "/cases/{instance_id}/documents/{sha256}")} | {
    ("POST", "/api/tokens/{token_id}/revoke"),
    ("POST", "/account/tokens/{token_id}/revoke"),
    ("POST", "/admin/sessions/{session_id}/end"),
    ("GET", "/partner/handoffs/{handoff_id}"),
    ("GET", "/audit/samples/{sample_id}"),
    ("POST", "/partner/handoffs/{handoff_id}/accept"),
    ("POST", "/partner/handoffs/{handoff_id}/return"),
    ("POST", "/partner/handoffs/{handoff_id}/report"),
    # A draft is made by its designer's first GET; the matrix deletes and saves before that.
    ("DELETE", "/api/studio/drafts/{process_id}/files/{name}"),
    ("PUT", "/api/studio/drafts/{process_id}/files/{name}"),
    ("POST", "/api/studio/drafts/{process_id}/lint"),
    ("POST", "/api/studio/drafts/{process_id}/publish"),
}
# Listing routes: allowed to many, but the case must not show for those out of scope.
LISTS = {("GET", "/api/instances"), ("GET", "/inbox"), ("GET", "/api/supervisions")} | {
    ("GET", "/partner"),
    ("GET", "/cases"),
    ("GET", "/dashboard"),
    ("GET", "/audit"),
}


def app_routes(world: WebWorld) -> set[tuple[str, str]]:
    found = set()
    for route in flat_routes(world.app):
        if route.mount:
            assert route.path.startswith("/static"), f"unexpected mount {route.path}"
            continue
        assert route.methods, f"a route without methods: {route.path}"
        found |= {(m, route.path) for m in route.methods if m != "HEAD"}
    return found


def _request(
    key: tuple[str, str], case: str, task: str, token: str | None, api: bool
) -> tuple[str, str, dict[str, Any]]:
    method, template = key
    path = (
        template.replace("{instance_id}", case)
        .replace("{task_id}", task)
        .replace("{process_id}", "sla_skeleton")
        .replace("{year}", "2026")
        .replace("{kind}", "rejection")
        .replace("{handoff_id}", case)
        .replace("{event_id}", "1")
        .replace("{sample_id}", "0123456789ab")
        .replace("{seq}", "1")
        .replace("{token_id}", "0123456789ab")
        .replace("{session_id}", "0" * 64)
        .replace("{username}", "jb_dongcheng2")  # no caller: ending its sessions ends none of theirs
        .replace("{version}", "1")
        .replace("{name}", "matrix-schema.json")
    )
    kwargs: dict[str, Any] = {}
    bodies: dict[str, Any] = {
        "/api/processes/{process_id}/instances": {"json": {"data": {}, "org_unit": CASE_ORG, "region": "CN"}},
        "/api/instances/{instance_id}/tasks/{task_id}/complete": {"json": {"data": {"materials_complete": True}}},
        "/api/instances/{instance_id}/terminate": {"json": {"reason": "测试"}},
        "/api/instances/{instance_id}/retry": {"json": {"data_patch": {}}},
        "/api/instances/{instance_id}/sla/extend": {
            "json": {"reason": "r", "approver": "a", "approver_role": "县级民政部门"}
        },
        "/api/calendar/schedules": {"json": {"year": 2031, "version": "v", "holidays": [], "workdays": []}},
        "/api/deployments": {"files": [("files", ("x.bpmn", b"<x/>"))]},
        "/api/studio/check-script": {"json": {"kind": "condition", "text": "a > 1"}},
        "/inbox/claim": {"data": {"task_ids": [task]}},
        "/inbox/reassign": {"data": {"task_ids": [task], "to": "jb_dongcheng2", "reason": "休假"}},
        "/tasks/{task_id}": {"data": {"materials_complete": "true"}},
        "/tasks/{task_id}/reassign": {"data": {"to": "jb_dongcheng2", "reason": "休假"}},
        "/tasks/{task_id}/send-back": {"data": {"reason": "材料不全"}},
        "/partner/handoffs/{handoff_id}/return": {"data": {"reason": "户号不符"}},
        "/partner/handoffs/{handoff_id}/report": {"data": {"granted": "no", "reason": "不符合条件"}},
        "/api/external/fetch-and-lock": {"json": {"worker_id": "w1"}},
        "/api/external/{handoff_id}/extend-lock": {"json": {"lock_token": "t"}},
        "/api/external/{handoff_id}/complete": {"json": {"lock_token": "t", "result": {"granted": True}}},
        "/api/external/{handoff_id}/fail": {"json": {"lock_token": "t", "reason": "不符合条件"}},
        "/api/external/{handoff_id}/return": {"json": {"lock_token": "t", "reason": "不符合条件"}},
        "/api/tokens": {"json": {"name": "矩阵"}} if method == "POST" else {},
        "/api/studio/drafts/{process_id}/scenarios": {"json": {}},
        "/api/studio/drafts/{process_id}/dry-run": {"json": {"accepted_on": "2026-03-02"}},
        "/api/studio/drafts/{process_id}/dry-run/scenario": {"json": {"accepted_on": "2026-03-02", "name": "矩阵"}},
        "/account/tokens": {"data": {"name": "矩阵"}} if method == "POST" else {},
        "/admin/tokens": {"data": {"name": "矩阵", "holder": "xl_yangliu"}} if method == "POST" else {},
        "/audit/samples": {"data": {"org_unit": "qinghe", "share_percent": "30"}},
        "/api/studio/drafts/{process_id}/publish": {"json": {"note": "矩阵"}},
        "/api/studio/drafts/{process_id}/files/{name}": {"content": b"{}"} if method == "PUT" else {},
    }
    if template == "/api/calendar/add-workdays":
        path += "?start=2026-11-02&n=3"
    if template == "/audit":
        path += "?process=sla_skeleton"  # a search: the cases in scope are listed
    if template == "/api/studio/procedures/{process_id}/diff":
        path += "?from=1&to=1"
    if template == "/api/sla/report":
        path += "?since=2026-01-01&until=2026-12-31"
    kwargs.update(bodies.get(template, {}))
    if method in ("POST", "PUT", "DELETE") and token is not None:
        if api:
            kwargs["headers"] = {"X-CSRF-Token": token}
        else:
            kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": token}
    return method, path, kwargs


def _denied(status: int, location: str | None) -> bool:
    return status in (401, 403) or (status == 303 and (location or "").startswith("/signin"))


@pytest.fixture
def world(make_engine_for: Callable[..., Engine], db_url: str) -> WebWorld:
    world = make_world(make_engine_for, db_url)
    base = world.context.accounts.find_user("jb_dongcheng")
    assert base is not None
    world.context.accounts.save_users([replace(base, username="jb_dongcheng2", password_hash=hash_password("x"))])
    return world


def test_every_route_is_public_or_in_the_matrix(world: WebWorld) -> None:
    unlisted = sorted(app_routes(world) - PUBLIC - set(EXPECTED))
    assert unlisted == [], f"routes without an authorization rule (add them to EXPECTED): {unlisted}"
    assert sorted(set(EXPECTED) - app_routes(world)) == []


# Some 3,000 requests: 92 s alone on a busy machine with PostgreSQL, near the suite's 120 s limit.
@pytest.mark.timeout(300)
def test_matrix_every_route_every_role_in_and_out_of_scope(world: WebWorld) -> None:
    # Signing out last: it ends the callers' sessions.
    routes = sorted(app_routes(world) - PUBLIC, key=lambda k: (k == ("POST", "/signout"), k))
    clients: dict[str, tuple[TestClient, str | None, dict[str, str]]] = {}
    for caller in CALLERS:
        if caller.name == "anonymous":
            clients[caller.name] = (world.client(), None, {})
        elif caller.name == "machine":
            clients[caller.name] = (world.client(), None, {"Authorization": f"Bearer {TOKEN}"})
        elif caller.name.startswith("token:"):
            made = world.client().post(
                "/api/tokens",
                json={"name": "矩阵", "username": caller.name.removeprefix("token:")},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert made.status_code == 201, made.text
            clients[caller.name] = (world.client(), None, {"Authorization": f"Bearer {made.json()['token']}"})
        else:
            client = world.signed_in(caller.name)
            clients[caller.name] = (client, csrf_of(client.get("/inbox", follow_redirects=True).text), {})
    leaks, wrong = [], []
    shared_case = world.start(CASE_ORG, name=APPLICANT)
    for key in routes:
        rule = EXPECTED[key]
        for caller in CALLERS:
            client, token, headers = clients[caller.name]
            # Every state-changing request gets a case of its own, so one caller's
            # allowed action cannot change what the next one sees.
            case = world.start(CASE_ORG, name=APPLICANT) if key[0] == "POST" else shared_case
            task = world.task_of(case)
            api = key[1].startswith("/api")
            method, path, kwargs = _request(key, case, task, token, api)
            kwargs["headers"] = {**kwargs.get("headers", {}), **headers}
            if not api and "Authorization" in kwargs["headers"]:
                kwargs["headers"].pop("Authorization")  # pages ignore tokens; try anyway below
            r = client.request(method, path, **kwargs)
            denied = _denied(r.status_code, r.headers.get("location"))
            if key == ("POST", "/signout"):
                denied = r.status_code == 403
            allowed = rule(caller)
            label = f"{method} {path.split('?')[0]} as {caller.name}: {r.status_code}"
            missing = r.status_code == 404 and key not in ABSENT_OK
            if allowed and (denied or missing or r.status_code >= 500):
                wrong.append(label + " " + r.text[:200])
            if not allowed and not denied:
                leaks.append(label)
            if key in LISTS and r.status_code == 200 and not caller.sees_case and caller.name != "machine":
                if case in r.text or APPLICANT in r.text:
                    leaks.append(label + " (the case shows in the list)")
            if key[0] == "POST" and not allowed:
                after = world.engine.get(case)
                events = [e.type for e in world.engine.events(case)]
                if after.record.status != "running" or any(
                    t in events for t in ("task_claimed", "task_reassigned", "task_completed", "task_sent_back")
                ):
                    leaks.append(label + f" (changed the case: {json.dumps(events[-2:])})")
    assert leaks == [], "\n".join(leaks)
    assert wrong == [], "\n".join(wrong)


def test_machine_token_does_not_open_pages(world: WebWorld) -> None:
    client = world.client()
    r = client.get("/inbox", headers={"Authorization": f"Bearer {TOKEN}"})
    assert _denied(r.status_code, r.headers.get("location"))
    assert client.get("/api/processes", headers={"Authorization": "Bearer wrong"}).status_code == 401
