"""A published version keeps what it was published with: its time-limit
policies (as they were, not as the policy store holds them later), its
decision rules (which the case pages then read for that version) and its
scenarios; a new draft starts from them, the publish check runs on them, and
the version's zip imports back as identical files."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from jiuzhu.web.case_decision import rules_for
from tests.conftest import PROCESSES
from tests.jiuzhu.studio.test_studio import _designer, _put, world
from tests.support.web_support import WebWorld, csrf_of

__all__ = ["world"]  # the fixture, shared with the studio's other API tests

PID = "material_review"
POLICY_NAME = f"{PID}.national.sla.json"
RULES_NAME = f"{PID}.decisions.json"
FEATURE_NAME = f"{PID}.feature"
# Publishing runs it (through the generic binding: the sample has no test module of its own).
FEATURE = (
    "# language: zh-CN\n功能: 材料审核\n\n  背景:\n    假如 已部署流程「material_review」及其时限政策\n\n"
    "  场景: 审核通过\n    假如 今天是 2026年11月2日 星期一 9点\n"
)
RULES = {"process_id": PID, "decisions": [{"task": "approve", "body": "county", "outcome": "纳入"}]}


def _policy(title: str) -> str:
    body = json.loads((PROCESSES / "sla" / "yishiyiyi.national.sla.json").read_text("utf-8"))
    body |= {"id": f"{PID}.national", "procedure": PID, "processes": [PID], "title": title}
    return json.dumps(body, ensure_ascii=False, indent=2)


def _publish_with_companions(world: WebWorld) -> tuple[dict[str, str], list[dict[str, bytes]]]:
    client, h = _designer(world)
    draft = client.get(f"/api/studio/drafts/{PID}").json()
    revision = draft["revision"]
    for name, text in ((POLICY_NAME, _policy("材料审核时限（发布时）")), (RULES_NAME, json.dumps(RULES)),
                       (FEATURE_NAME, FEATURE)):  # fmt: skip
        saved = _put(client, h, PID, name, text, revision).json()
        assert saved["problems"] == [], saved
        revision = saved["revision"]
    seen: list[dict[str, bytes]] = []

    def check(process_id: str, files: dict[str, bytes]) -> list[dict[str, Any]]:
        seen.append(files)
        return []

    world.app.state.studio_publish_checks.append(check)
    published = client.post(f"/api/studio/drafts/{PID}/publish", json={"note": "加时限、决定与场景"}, headers=h)
    world.app.state.studio_publish_checks.clear()
    assert published.status_code == 200, published.text
    assert published.json()["version"] == 2
    return client.get(f"/api/studio/procedures/{PID}/versions/2/files").json()["files"], seen


def test_a_version_keeps_its_policies_rules_and_scenarios_and_its_zip_round_trips(world: WebWorld) -> None:
    v2, seen = _publish_with_companions(world)
    assert seen and seen[0][FEATURE_NAME].decode() == FEATURE  # the scenario check ran on the draft's scenario
    assert json.loads(v2[POLICY_NAME])["title"] == "材料审核时限（发布时）"
    assert json.loads(v2[RULES_NAME]) == RULES and v2[FEATURE_NAME] == FEATURE
    # The policy changes afterwards (another publish, jiuzhu deploy): v2 still holds its own.
    world.engine.load_policies([(f"sla/{POLICY_NAME}", _policy("材料审核时限（后来改的）").encode())], actor="admin")
    again = world.signed_in("designer").get(f"/api/studio/procedures/{PID}/versions/2/files").json()["files"]
    assert again == v2
    # Another designer's new draft starts from v2's files, its scenario and rules included.
    other, oh = _designer(world, "admin")
    assert other.get(f"/api/studio/drafts/{PID}").json()["files"] == v2
    exported = other.get(f"/studio/{PID}/versions/2.zip")
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    folder = other.get(f"/api/studio/procedures/{PID}/versions/2/files").json()["folder"]
    assert {f"processes/sla/{POLICY_NAME}", f"processes/{folder}/{RULES_NAME}", f"features/{FEATURE_NAME}"} <= set(
        archive.namelist()
    )
    assert archive.read(f"features/{FEATURE_NAME}").decode() == FEATURE
    # Imported as a draft, the zip is v2 file for file: nothing to publish.
    r = other.post("/studio/import", data={"csrf_token": csrf_of(other.get("/studio").text)},
                   files={"archive": ("v2.zip", exported.content, "application/zip")})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/studio/{PID}"
    assert other.get(f"/api/studio/drafts/{PID}").json()["files"] == v2
    same = other.post(f"/api/studio/drafts/{PID}/publish", json={"note": "原样导入"}, headers=oh)
    assert same.status_code == 422 and same.json()["code"] == "STUDIO_NOTHING_TO_PUBLISH"


def test_a_published_versions_decision_rules_are_the_ones_its_cases_are_read_with(world: WebWorld) -> None:
    _publish_with_companions(world)
    rules = rules_for(PROCESSES, PID, world.engine, 2)
    assert rules is not None and [r.task for r in rules.rules] == ["approve"]
    assert rules_for(PROCESSES, PID, world.engine, 1) is None  # v1 was deployed without any


def test_draft_decision_rules_are_linted_like_the_pages_read_them(world: WebWorld) -> None:
    client, h = _designer(world)
    draft = client.get(f"/api/studio/drafts/{PID}").json()
    wrong = {"process_id": PID, "decisions": [{"task": "no_such_task", "body": "county", "outcome": "纳入"}]}
    problems = _put(client, h, PID, RULES_NAME, json.dumps(wrong), draft["revision"]).json()["problems"]
    assert [(p["code"], p["file"], p["element_id"]) for p in problems] == [
        ("DECISION_RULES_INVALID", RULES_NAME, "no_such_task")
    ]
    assert "no_such_task" in problems[0]["message"]
    broken = _put(client, h, PID, RULES_NAME, "{", draft["revision"] + 1).json()["problems"]
    assert [(p["code"], p["file"]) for p in broken] == [("DECISION_RULES_INVALID", RULES_NAME)]
    refused = client.post(f"/api/studio/drafts/{PID}/publish", json={"note": "坏的决定配置"}, headers=h)
    assert refused.status_code == 422 and len(world.engine.versions(PID)) == 1


def test_a_zip_with_a_scenario_of_another_procedure_or_out_of_place_is_refused(world: WebWorld) -> None:
    client, _ = _designer(world)
    for path in ("features/other.feature", "features/x/material_review.feature", "material_review.feature"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"processes/sample/{PID}.bpmn", (PROCESSES / "sample" / f"{PID}.bpmn").read_bytes())
            archive.writestr(path, FEATURE)
        r = client.post("/studio/import", data={"csrf_token": csrf_of(client.get("/studio").text)},
                        files={"archive": ("x.zip", buffer.getvalue(), "application/zip")})  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/studio", path
        assert "未能导入" in client.get("/studio").text, path


def test_a_change_to_a_scenario_or_policy_alone_is_a_new_version(world: WebWorld) -> None:
    # Before the version stored them, the model's files alone were the same deployment: refused as
    # already published, while the policy had been loaded for every version anyway.
    _publish_with_companions(world)
    client, h = _designer(world)
    draft = client.get(f"/api/studio/drafts/{PID}").json()
    for name, text, version in ((FEATURE_NAME, FEATURE + "\n  场景: 退回补正\n", 3),
                                (POLICY_NAME, _policy("材料审核时限（第三版）"), 4)):  # fmt: skip
        saved = _put(client, h, PID, name, text, draft["revision"]).json()
        assert saved["problems"] == []
        published = client.post(f"/api/studio/drafts/{PID}/publish", json={"note": f"只改 {name}"}, headers=h)
        assert published.status_code == 200 and published.json()["version"] == version, published.text
        draft = client.get(f"/api/studio/drafts/{PID}").json()
        files = client.get(f"/api/studio/procedures/{PID}/versions/{version}/files").json()["files"]
        assert files[name] == text
