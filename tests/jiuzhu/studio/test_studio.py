"""The designer studio over HTTP on SQLite and PostgreSQL: drafts, lint (the
very problems ``jiuzhu deploy`` reports), publish (audited, immutable versions,
running cases stay put), export and import, and who may enter."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.clock import FixedClock
from engine.errors import DeploymentRefused
from engine.sandbox.scripts import Sandbox
from engine.service.core import SYSTEM_CHAIN
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.wiring import default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT
from tests.support.web_support import WebWorld, csrf_of, web_over

BAD = ROOT / "tests" / "fixtures" / "studio" / "bad.bpmn"


def _world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str, *paths: Path) -> WebWorld:
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(make_store(), clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_paths(engine, [PROCESSES / "sla", *paths], FORMS, actor="designer")
    return web_over(engine, db_url)


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    return _world(make_store, clock, db_url, PROCESSES / "sample")


def _designer(
    world: WebWorld, username: str = "designer", pid: str = "material_review"
) -> tuple[TestClient, dict[str, str]]:
    client = world.signed_in(username)
    token = re.search(r'data-csrf="([^"]+)"', client.get(f"/studio/{pid}").text)
    assert token, "the editor page carries the CSRF token"
    return client, {"X-CSRF-Token": token.group(1)}


def _new(client: TestClient, process_id: str, name: str) -> None:
    page = client.get("/studio").text
    r = client.post("/studio/new", data={"process_id": process_id, "name": name, "csrf_token": csrf_of(page)})
    assert r.status_code == 303 and r.headers["location"] == f"/studio/{process_id}"


def _put(client: TestClient, h: dict[str, str], pid: str, name: str, text: str, revision: int) -> Any:
    headers = {**h, "If-Match": str(revision), "Content-Type": "text/plain; charset=utf-8"}
    return client.put(f"/api/studio/drafts/{pid}/files/{name}", content=text.encode("utf-8"), headers=headers)


def _marks(problems: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return sorted((p["code"], p["element_id"]) for p in problems)


def test_a_new_procedure_is_drafted_linted_published_and_audited(world: WebWorld) -> None:
    client, h = _designer(world)
    _new(client, "tanfang", "探访关爱登记")
    draft = client.get("/api/studio/drafts/tanfang").json()
    assert list(draft["files"]) == ["tanfang.bpmn"] and draft["base_version"] is None
    assert 'name="探访关爱登记"' in draft["files"]["tanfang.bpmn"]
    # An end event connected to nothing: located, on the element, in Chinese, and publishing is refused.
    model = draft["files"]["tanfang.bpmn"].replace(
        '<bpmn:endEvent id="end" name="办结">',
        '<bpmn:endEvent id="stray" name="孤立" /><bpmn:endEvent id="end" name="办结">',
    )
    saved = _put(client, h, "tanfang", "tanfang.bpmn", model, draft["revision"]).json()
    assert saved["revision"] == draft["revision"] + 1
    [problem] = saved["problems"]
    assert (problem["code"], problem["element_id"], problem["file"], problem["severity"]) == (
        "BPMN_UNREACHABLE", "stray", "tanfang.bpmn", "error"
    )  # fmt: skip
    assert "永远不会执行" in problem["message"]
    refused = client.post("/api/studio/drafts/tanfang/publish", json={"note": "初版"}, headers=h)
    assert refused.status_code == 422 and _marks(refused.json()["problems"]) == [("BPMN_UNREACHABLE", "stray")]
    assert world.engine.versions("tanfang") == []
    # A stale revision (another tab) is refused and changes nothing.
    stale = _put(client, h, "tanfang", "tanfang.bpmn", draft["files"]["tanfang.bpmn"], draft["revision"])
    assert stale.status_code == 409 and stale.json()["code"] == "STUDIO_DRAFT_REVISION_MISMATCH"
    fixed = _put(client, h, "tanfang", "tanfang.bpmn", draft["files"]["tanfang.bpmn"], saved["revision"]).json()
    assert fixed["problems"] == []
    published = client.post("/api/studio/drafts/tanfang/publish", json={"note": "初版"}, headers=h).json()
    assert published["version"] == 1 and published["published_by"] == "designer"
    [version] = client.get("/api/studio/procedures/tanfang/versions").json()
    assert (version["version"], version["note"], version["published_by"]) == (1, "初版", "designer")
    with world.engine.store.reader() as unit:
        audited = [e for e in unit.events(SYSTEM_CHAIN) if e.type == "deployment_created"][-1]
    assert audited.actor == "designer" and audited.payload["note"] == "初版"
    assert audited.payload["content_hash"] == published["content_hash"] == version["content_hash"]
    # Nothing new: publishing the same draft again is refused.
    again = client.post("/api/studio/drafts/tanfang/publish", json={"note": "再发"}, headers=h)
    assert again.status_code == 422 and again.json()["code"] == "STUDIO_NOTHING_TO_PUBLISH"
    listed = client.get("/studio").text
    assert "探访关爱登记" in listed and "v1" in listed and "初版" in listed


def test_lint_reports_what_jiuzhu_deploy_reports_and_publish_is_refused_on_the_element(
    world: WebWorld, tmp_path: Path
) -> None:
    with pytest.raises(DeploymentRefused) as refused:
        deploy_paths(world.engine, [BAD], FORMS, actor="designer")
    deployed = sorted((p.code, p.location.element_id) for p in refused.value.problems())
    assert {code for code, _ in deployed} >= {
        "BPMN_UNREACHABLE", "SCRIPT_FORBIDDEN", "FORM_MISSING", "BPMN_SERVICE_TASK", "BPMN_LINK_EVENT"
    }  # fmt: skip
    client, h = _designer(world)
    _new(client, "badproc", "有问题的流程")
    draft = client.get("/api/studio/drafts/badproc").json()
    _put(client, h, "badproc", "badproc.bpmn", BAD.read_text("utf-8"), draft["revision"])
    linted = client.post("/api/studio/drafts/badproc/lint", headers=h).json()["problems"]
    assert _marks(linted) == deployed
    messages = {p["element_id"]: p["message"] for p in linted}
    assert "找不到表单文件 no-such-schema.json" in messages["fill"] and "链接事件" in messages["jump"]
    published = client.post("/api/studio/drafts/badproc/publish", json={"note": "试试"}, headers=h)
    assert published.status_code == 422 and _marks(published.json()["problems"]) == deployed
    assert world.engine.versions("badproc") == []


def test_a_publish_check_refuses_and_the_zip_round_trips(world: WebWorld) -> None:
    client, h = _designer(world)
    draft = client.get("/api/studio/drafts/material_review").json()
    assert draft["base_version"] == 1 and "sample-application-schema.json" in draft["files"]
    schema = draft["files"]["sample-application-schema.json"].replace('"title"', '"title"', 1)
    changed = schema.replace("{", '{"description": "改过的表单",', 1)
    rev = _put(client, h, "material_review", "sample-application-schema.json", changed, draft["revision"]).json()
    assert rev["problems"] == []
    seen: list[tuple[str, list[str]]] = []

    def scenario(process_id: str, files: dict[str, bytes]) -> list[dict[str, Any]]:
        seen.append((process_id, sorted(files)))
        return [{"code": "SCENARIO_FAILED", "message": "场景「受理」第 2 步未通过", "file": None, "element_id": None}]

    world.app.state.studio_publish_checks.append(scenario)
    refused = client.post("/api/studio/drafts/material_review/publish", json={"note": "改表单"}, headers=h)
    assert refused.status_code == 422 and refused.json()["problems"][0]["code"] == "SCENARIO_FAILED"
    assert seen == [("material_review", sorted(draft["files"]))] and len(world.engine.versions("material_review")) == 1
    world.app.state.studio_publish_checks.clear()
    ok = client.post("/api/studio/drafts/material_review/publish", json={"note": "改表单"}, headers=h).json()
    assert ok["version"] == 2
    v1 = client.get("/api/studio/procedures/material_review/versions/1/files").json()["files"]
    v2 = client.get("/api/studio/procedures/material_review/versions/2/files").json()["files"]
    assert (
        "改过的表单" in v2["sample-application-schema.json"]
        and "改过的表单" not in v1["sample-application-schema.json"]
    )
    huge = client.get("/api/studio/procedures/material_review/versions/99999999999999999999/files")
    assert huge.status_code == 422 and client.get("/studio/material_review/versions/0.zip").status_code == 422
    exported = client.get("/studio/material_review/versions/2.zip")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    folder = client.get("/api/studio/procedures/material_review/versions/2/files").json()["folder"]
    assert (
        f"processes/{folder}/material_review.bpmn" in names and f"forms/{folder}/sample-approval-schema.json" in names
    )
    # Another designer imports the zip: their draft holds exactly the version's files.
    other, _ = _designer(world, "admin")
    page = other.get("/studio").text
    r = other.post("/studio/import", data={"csrf_token": csrf_of(page)},
                   files={"archive": ("m.zip", exported.content, "application/zip")})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/studio/material_review"
    assert other.get("/api/studio/drafts/material_review").json()["files"] == v2
    junk = other.post("/studio/import", data={"csrf_token": csrf_of(page)},
                      files={"archive": ("x.zip", b"not a zip", "application/zip")})  # fmt: skip
    assert junk.status_code == 303 and junk.headers["location"] == "/studio"
    assert other.get("/api/studio/drafts/material_review").json()["files"] == v2
