"""Rules as tests: 低保's Gherkin scenarios run against a draft (jiuzhu/studio/scenarios.py);
the unchanged draft passing is run through the API (tests/studio/test_pages_diff.py).

The draft is what a designer would hold: the shipped 低保 model, DMN, forms and
policies under their deployment names. Each check is one real pytest-bdd run in
a subprocess; one scenario is selected to keep the suite quick (a run of all
21 低保 scenario tests takes about 25 s on its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jiuzhu.studio.scenario_files import feature_texts, placed, scenarios_in
from jiuzhu.studio.scenarios import ScenarioCheck
from tests.conftest import ROOT
from tests.support.studio_versions import (
    NORMAL,
    PUBLICITY_STEP,
    dibao_draft,
    dibao_scenario_count,
    publicity_on_the_ninth,
)

SEVEN_DAYS = '"publicity": {"name": "公示", "limit": 7'
CHECK = ScenarioCheck(timeout=240, names=(NORMAL,))


def five_day_publicity(draft: dict[str, bytes]) -> dict[str, bytes]:
    policy = draft["dibao.national.sla.json"].decode()
    assert SEVEN_DAYS in policy
    return draft | {"dibao.national.sla.json": policy.replace(SEVEN_DAYS, SEVEN_DAYS[:-1] + "5").encode()}


@pytest.mark.timeout(300)
def test_a_draft_that_shortens_publicity_is_refused_at_the_scenario_step() -> None:
    problems = CHECK("dibao", five_day_publicity(dibao_draft()))
    assert [p["code"] for p in problems] == ["SCENARIO_FAILED"]
    problem = problems[0]
    assert problem["scenario"] == NORMAL
    assert problem["step"] == PUBLICITY_STEP
    assert problem["file"] == "features/dibao.feature"
    assert NORMAL in problem["message"] and "「公示」的期限是 2026年3月10日" in problem["message"]
    assert "实际 2026-03-09" in problem["message"]


@pytest.mark.timeout(300)
def test_the_draft_with_its_scenario_updated_passes() -> None:
    updated = publicity_on_the_ninth((ROOT / "features" / "dibao.feature").read_text(encoding="utf-8"))
    draft = five_day_publicity(dibao_draft()) | {"dibao.feature": updated.encode()}
    assert CHECK("dibao", draft) == []


def test_draft_files_land_where_the_feature_worlds_read_them(tmp_path: Path) -> None:
    assert placed("dibao.bpmn", "dibao").as_posix() == "processes/dibao/dibao.bpmn"
    assert placed("dibao-apply-schema.json", "dibao").as_posix() == "forms/dibao/dibao-apply-schema.json"
    assert placed("dibao.national.sla.json", "dibao").as_posix() == "processes/sla/dibao.national.sla.json"
    assert placed("dibao.feature", "dibao").as_posix() == "features/dibao.feature"
    assert placed("processes/dibao/dibao.bpmn", "dibao").as_posix() == "processes/dibao/dibao.bpmn"
    for bad in ("../dibao.bpmn", "processes/../../etc/passwd", "/etc/passwd", "x.py", "other.feature"):
        with pytest.raises(Exception) as refused:
            placed(bad, "dibao")
        assert getattr(refused.value, "code", "").startswith("SCENARIO_FILE"), bad


def test_the_scenarios_listed_are_the_draft_feature_when_it_has_one() -> None:
    shipped = feature_texts("dibao", dibao_draft())
    names = [s.name for s in scenarios_in("dibao.feature", shipped["dibao.feature"])]
    assert names[0] == NORMAL and len(names) == dibao_scenario_count()
    own = "# language: zh-CN\n功能: 低保\n\n  场景: 只有这一个\n    假如 已加载时限政策并部署低保和“一件事”联办流程\n"
    mine = feature_texts("dibao", {"dibao.feature": own.encode()})
    [only] = scenarios_in("dibao.feature", mine["dibao.feature"])
    assert (only.name, only.line) == ("只有这一个", 4)
    assert only.text.splitlines()[1].strip() == "假如 已加载时限政策并部署低保和“一件事”联办流程"
    assert feature_texts("no_such_procedure", {}) == {}


def test_a_run_past_its_time_limit_is_killed_and_refuses_the_publish() -> None:
    [problem] = ScenarioCheck(timeout=1, names=(NORMAL,))("dibao", dibao_draft())
    assert problem["code"] == "SCENARIO_TIMEOUT"
    assert problem["message"] == "场景运行超过时限（1 秒）被终止"
