"""DMN lint through the studio's draft API: saving a broken decision table of
低保 answers with deploy's own problem (stable code, Chinese message) located
on the cell and named by decision, rule row and column; publishing is refused
until it is fixed."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import PROCESSES
from tests.jiuzhu.studio.test_studio import _designer, _put
from tests.support.web_support import WebWorld

TIERS = "dibao_tiers.dmn"
DECISION = "决策「低保保障金分档」"


def _lint_of(world: WebWorld, change: Any) -> list[dict[str, Any]]:
    """The problems of 低保's draft with the shipped dibao_tiers.dmn changed by ``change``."""
    client, h = _designer(world, pid="dibao")
    draft = client.get("/api/studio/drafts/dibao").json()
    saved = _put(client, h, "dibao", TIERS, change((PROCESSES / "dibao" / TIERS).read_text("utf-8")), draft["revision"])
    assert saved.status_code == 200
    problems: list[dict[str, Any]] = saved.json()["problems"]
    return problems


def _in_tiers(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in problems if p["file"] == TIERS]


def test_an_input_cell_the_engine_cannot_evaluate_is_located_by_rule_and_column(dibao_world: WebWorld) -> None:
    problems = _lint_of(dibao_world, lambda t: t.replace("0.3 &lt;= ? &lt; 0.6", "[0.3..0.6["))
    [problem] = problems
    assert (problem["code"], problem["element_id"], problem["severity"]) == ("SCRIPT_SYNTAX", "tier_rule_2_in", "error")
    assert "DMN 规则单元格" in problem["message"] and "语法错误" in problem["message"]
    assert problem["where"] == {
        "decision": "dibao_tiers", "decision_name": "低保保障金分档", "rule": 2,
        "column": "家庭月人均收入 ÷ 月低保标准", "column_kind": "input",
        "text": f"{DECISION}，第 2 条规则，输入列「家庭月人均收入 ÷ 月低保标准」",
    }  # fmt: skip
    client, h = _designer(dibao_world, pid="dibao")
    refused = client.post("/api/studio/drafts/dibao/publish", json={"note": "改分档"}, headers=h)
    assert refused.status_code == 422 and [p["element_id"] for p in refused.json()["problems"]] == ["tier_rule_2_in"]
    assert len(dibao_world.engine.versions("dibao")) == 1


def test_an_output_cell_that_is_not_python_is_named_once_in_chinese(dibao_world: WebWorld) -> None:
    problems = _lint_of(dibao_world, lambda t: t.replace('"二档"', '"二档'))
    [problem] = _in_tiers(problems)
    assert (problem["code"], problem["element_id"]) == ("SCRIPT_SYNTAX", "tier_rule_2_name")
    assert problem["message"].startswith('DMN 输出「"二档」：第 1 行有语法错误')
    assert problem["where"]["text"] == f"{DECISION}，第 2 条规则，输出列「档次」"
    # The table is refused, so the business rule task calling it is too: on the diagram, no "where".
    [caller] = [p for p in problems if p["file"] == "dibao.bpmn"]
    assert (caller["code"], caller["element_id"], caller["where"]) == ("DMN_MISSING", "db_tiers", None)


def test_an_unsupported_hit_policy_and_a_missing_output_are_on_the_table(dibao_world: WebWorld) -> None:
    first = _in_tiers(_lint_of(dibao_world, lambda t: t.replace('hitPolicy="UNIQUE"', 'hitPolicy="FIRST"')))
    assert [(p["code"], p["element_id"], p["where"]["text"]) for p in first] == [
        ("DMN_INVALID", "dibao_tiers_table", f"{DECISION}，决策表")
    ]
    assert "不支持命中策略 FIRST" in first[0]["message"]

    def no_outputs(text: str) -> str:
        return re.sub(r"<output [^>]*/>|<outputEntry [^>]*>.*?</outputEntry>", "", text)

    missing = _in_tiers(_lint_of(dibao_world, no_outputs))
    assert [(p["code"], p["element_id"]) for p in missing] == [("DMN_NO_OUTPUT", "dibao_tiers_table")]
    assert "决策表没有输出列" in missing[0]["message"]


def test_a_dmn_file_that_is_not_xml_is_located_on_the_file(dibao_world: WebWorld) -> None:
    [problem] = _in_tiers(_lint_of(dibao_world, lambda t: t.replace("</definitions>", "")))
    assert problem["code"] == "DMN_INVALID" and problem["where"] is None and "XML" in problem["message"]
