"""把这次试运行存为场景: a dry run of the real 低保 draft, from application to 纳入低保
(which starts 一件事联办), saved as a Chinese Gherkin scenario in the draft's copy of
features/dibao.feature, which then passes when the studio runs it against the draft
(the suite's own runner, jiuzhu/studio/scenarios.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jiuzhu.studio.scenario_files import scenarios_in
from jiuzhu.studio.scenarios import run_scenarios
from tests.support.dry_run_world import API, body, designer, dibao_studio, run_through
from tests.support.web_support import WebWorld

NAME = "试运行：国庆前受理，公示届满后登记公示结果"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    yield from dibao_studio(tmp_path_factory)


@pytest.mark.timeout(300)
def test_a_saved_dry_run_is_a_scenario_that_passes_against_the_draft(world: WebWorld) -> None:
    client = designer(world)
    state = client.post(API, json=body(run_through())).json()
    jump = {"kind": "jump", "to": state["wakeups"][0]["at"]}
    published = {"kind": "complete", "task": "db_publicity_result", "data": {"objection": False}}
    confirmed = {"decision": "同意", "certificate_no": "QH-DB-2026-0099"}
    steps = [*run_through(), jump, published, {"kind": "complete", "task": "db_county_confirm", "data": confirmed}]
    state = client.post(API, json=body(steps)).json()
    assert state["error"] is None and state["status"] == "completed" and state["ready"] == []
    # The draft's last step starts 一件事联办, deployed into the throw-away engine from its published version.
    assert "db_start_yijianshi" in state["path"]
    saved = client.post(f"{API}/scenario", json=body(steps, name=NAME))
    assert saved.status_code == 200, saved.text
    assert saved.json()["file"] == "dibao.feature"
    scenario = saved.json()["scenario"]
    lines = [line.strip() for line in scenario.splitlines()]
    assert lines[:3] == [
        f"场景: {NAME}",
        "假如 今天是 2026年9月28日 星期一 9点",
        "当 在区划「CN」由「qinghe.dongcheng.yangliu」开始「dibao」案件，开始数据：",
    ]
    assert "并且 「试运行」办理「受理审查」，提交：" in lines
    assert "并且 「试运行」办理「db_start_investigation」，提交：" in lines  # its name is also a stage's
    assert "并且 时间来到 2026年10月8日 星期四 24点" in lines
    assert "并且 「试运行」办理「登记公示结果」，提交：" in lines
    assert "那么 「总时限」的期限是 2026年11月13日（星期五）" in lines
    assert "并且 「公示」的期限是 2026年10月8日（星期四）" in lines
    assert lines[-1] == "并且 案件以「纳入低保」结束"

    draft = client.get("/api/studio/drafts/dibao").json()
    assert draft["revision"] == saved.json()["revision"]
    feature = draft["files"]["dibao.feature"]
    assert feature.startswith("# language: zh-CN") and feature.rstrip().endswith(scenario.rstrip())
    assert [s.name for s in scenarios_in("dibao.feature", feature)][-1] == NAME

    again = client.post(f"{API}/scenario", json=body(steps, name=NAME))
    assert again.status_code == 422 and again.json()["code"] == "DRY_RUN_SCENARIO_EXISTS"

    files = {name: text.encode("utf-8") for name, text in draft["files"].items()}
    run = run_scenarios("dibao", files, timeout=240, names=[NAME])
    assert run.outcome == "passed", (run.message, run.results, run.output[-2000:])
    assert [(r.name, r.passed) for r in run.results] == [(NAME, True)]
