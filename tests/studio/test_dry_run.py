"""试运行 of the real 低保 procedure, drafted from its published version
(jiuzhu/studio/dry_run.py through POST /api/studio/drafts/dibao/dry-run).

Accepted on Monday 2026-09-28, just before the 国庆 holidays (10月1日—7日, 10月10日
a working Saturday): the deadlines are the policy's (processes/sla/dibao.national.sla.json)
counted on the working-day calendar, the same as features/sla_deadlines_guoqing.feature
gives for that day. Every run leaves the server's database as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from engine.clock import SHANGHAI
from jiuzhu.demo_cases import INITIAL_REVIEW, opening
from jiuzhu.studio.dry_run import Bounds, Jump, Plan, dry_run
from jiuzhu.studio.layout import version_files
from tests.conftest import PROCESSES
from tests.support.dry_run_world import API, DAY, FAMILY, UNIT, body, counts, designer, dibao_studio, run_through
from tests.support.web_support import WebWorld


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    yield from dibao_studio(tmp_path_factory, JIUZHU_STUDIO_DRY_RUN_STEPS="12")


def test_setting_up_shows_the_start_form_with_its_defaults(world: WebWorld) -> None:
    answer = designer(world).post(API, json={"accepted_on": DAY})
    assert answer.status_code == 200, answer.text
    state = answer.json()
    assert state["started"] is False and state["now_label"] == "2026年9月28日 星期一 9点"
    assert state["start_form"]["title"] == "新建低保申请"
    # Defaults and first choices; required text left empty for the designer to fill in.
    applicant = {"name": "", "id_number": ""}
    assert state["start_sample"] == {"assistance_type": "低保", "apply_channel": "村居代办", "applicant": applicant}


def test_the_first_steps_show_deadlines_on_the_working_day_calendar_and_the_events(world: WebWorld) -> None:
    before = counts(world)
    client = designer(world)
    state = client.post(API, json=body(run_through()[:2])).json()
    assert state["error"] is None and state["applied"] == 2 and state["status"] == "running"
    assert [t["name"] for t in state["ready"]] == ["启动家庭经济状况调查"]
    assert state["ready"][0]["form_file"] == "dibao-start-investigation-schema.json"
    clocks = {c["name"]: c for c in state["clocks"]}
    # 受理后 3 个工作日内启动调查: 9月29日、30日, then 国庆 (10月1日—7日), 10月8日.
    investigation = clocks["启动家庭经济状况调查"]
    assert investigation["due_label"] == "2026年10月8日（星期四）" and investigation["state_label"] == "正常"
    assert [h["name"] for h in investigation["holidays"]] == ["国庆节"]
    overall = clocks["审核确认总时限"]
    assert (overall["label"], overall["due_on"]) == ("总时限", "2026-11-13")  # as sla_deadlines_guoqing.feature says
    assert overall["workdays"] == [{"name": "国庆节调休", "dates": ["2026-10-10"]}]  # the 调休 Saturday counts
    kinds = [(e["kind"], e["element"], e["actor"]) for e in state["events"]]
    assert ("发起案件", None, "试运行") in kinds
    assert ("提交办理", "受理审查", "试运行") in kinds
    assert any(kind == "开始计时" for kind, _, _ in kinds)
    accepted = next(e for e in state["events"] if e["kind"] == "提交办理" and e["element"] == "受理审查")
    assert accepted["at_label"] == "2026年9月28日 星期一 9点" and accepted["step"] == 1
    assert {"db_start", "db_apply", "db_accept", "db_start_investigation"} <= set(state["path"])
    assert counts(world) == before  # nothing of the run reached the server's database


def test_jumping_to_the_publicity_deadline_fires_its_timer(world: WebWorld) -> None:
    before = counts(world)
    client = designer(world)
    state = client.post(API, json=body(run_through())).json()
    publicity = next(c for c in state["clocks"] if c["name"] == "公示")
    # 公示 7 天 from 9月28日 ends 10月5日, a holiday: rolled to the next working day (民法典 第203条).
    assert publicity["due_label"] == "2026年10月8日（星期四）"
    assert state["wakeups"][0]["label"] == "2026年10月8日 星期四 24点"
    jump = {"kind": "jump", "to": state["wakeups"][0]["at"]}
    state = client.post(API, json=body([*run_through(), jump])).json()
    assert state["error"] is None and state["now_label"] == "2026年10月8日 星期四 24点"
    assert [t["name"] for t in state["ready"]] == ["登记公示结果"]
    fired = [e for e in state["events"] if e["type"] == "timer_fired"]
    assert [(e["kind"], e["element"], e["step"]) for e in fired] == [("定时器触发", "公示7天", 6)]
    assert "db_publicity" in state["path"] and "db_publicity_result" in state["path"]
    assert counts(world) == before


def test_a_step_that_cannot_be_done_is_located_and_the_state_before_it_shown(world: WebWorld) -> None:
    client = designer(world)
    steps = run_through()[:2] + [{"kind": "complete", "task": "db_initial_review", "data": INITIAL_REVIEW}]
    state = client.post(API, json=body(steps)).json()
    assert state["applied"] == 2 and state["error"]["code"] == "DRY_RUN_TASK_NOT_READY"
    assert state["error"]["step"] == 2
    assert state["error"]["message"].startswith("第 3 步（提交表单）：「初审」不在待办中")
    assert state["error"]["problems"][0]["field"] == "steps/2"
    wrong = run_through()[:2] + [{"kind": "complete", "task": "db_start_investigation", "data": {"nonsense": 1}}]
    state = client.post(API, json=body(wrong)).json()
    assert state["applied"] == 2 and state["error"]["code"] == "FORM_INVALID"
    assert state["error"]["problems"], state["error"]
    back = run_through()[:1] + [{"kind": "jump", "to": "2026-09-01T09:00:00"}]
    assert client.post(API, json=body(back)).json()["error"]["code"] == "DRY_RUN_TIME_BACKWARDS"


def test_a_run_is_bounded_in_steps_and_time(world: WebWorld) -> None:
    client = designer(world)
    jumps = [{"kind": "jump", "to": f"2026-10-{day:02d}T09:00:00"} for day in range(1, 14)]
    answer = client.post(API, json=body(jumps))
    assert answer.status_code == 422 and answer.json()["code"] == "DRY_RUN_TOO_MANY_STEPS"
    assert "最多 12 步" in answer.json()["message"]
    studio_engine = world.engine
    files = version_files(studio_engine, PROCESSES, "dibao")
    accepted = datetime(2026, 9, 28, 9, tzinfo=SHANGHAI)
    plan = Plan(accepted, "CN", UNIT, opening(FAMILY), (Jump(datetime(2026, 10, 9, tzinfo=SHANGHAI)),))
    state = dry_run(studio_engine, "dibao", files.files, files.folder, plan, Bounds(max_steps=5, seconds=0))
    assert state["error"]["code"] == "DRY_RUN_TIME_BUDGET" and state["applied"] == 0
    assert state["error"]["problems"][0]["field"] == "steps/0"


def test_garbage_is_refused_in_chinese_and_other_roles_are_kept_out(world: WebWorld) -> None:
    client = designer(world)
    bad = ['{"accepted_on": "9999-01-01"}', '{"accepted_on": "2026-09-28", "steps": [{"kind": "fly"}]}',
           '{"accepted_on": "2026-09-28", "region": "CN\\u0000"}',
           '{"accepted_on": "2026-09-28", "start": {"a": "\\ud800"}}',
           '{"accepted_on": "2026-09-28", "steps": [{"kind": "jump", "to": "0001-01-01T00:00:00+14:00"}]}']  # fmt: skip
    for each in bad:
        answer = client.post(API, content=each, headers={"Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500 and answer.json()["message"], (each, answer.text)
    assert client.post("/api/studio/drafts/nosuch/dry-run", json={"accepted_on": DAY}).status_code == 404
    assert world.signed_in("jb_dongcheng").post(API, json={"accepted_on": DAY}).status_code == 403


def test_a_draft_that_publish_would_refuse_is_refused_with_the_same_problems(world: WebWorld, tmp_path: Path) -> None:
    client = designer(world)
    draft = client.get("/api/studio/drafts/dibao").json()
    broken = draft["files"]["dibao.bpmn"].replace('formJsonSchemaFilename" value="dibao-acceptance-schema.json"',
                                                  'formJsonSchemaFilename" value="nosuch-schema.json"')  # fmt: skip
    assert broken != draft["files"]["dibao.bpmn"]
    headers = {"If-Match": str(draft["revision"]), "Content-Type": "text/plain; charset=utf-8"}
    saved = client.put("/api/studio/drafts/dibao/files/dibao.bpmn", content=broken.encode(), headers=headers)
    assert saved.status_code == 200
    try:
        answer = client.post(API, json={"accepted_on": DAY})
        assert answer.status_code == 422 and answer.json()["code"] == "DEPLOYMENT_REFUSED"
        assert [p["element_id"] for p in answer.json()["problems"] if p["code"] == "FORM_MISSING"] == ["db_accept"]
    finally:
        headers["If-Match"] = str(saved.json()["revision"])
        original = draft["files"]["dibao.bpmn"].encode()
        assert client.put("/api/studio/drafts/dibao/files/dibao.bpmn", content=original, headers=headers).is_success
