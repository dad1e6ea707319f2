"""A 低保 draft as a designer holds it (the shipped files under their deployment
names), and two real versions of 低保 for the studio's diff: v1 as shipped, v2 with a
task added (上传公示照片, drawn below 登记公示结果), that task renamed, a form
field retitled and one added, and the 公示 limit cut from 7 to 5 days."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine.service.facade import Engine
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT

NEW_TASK = "db_publicity_photo"
RENAMED = "db_publicity_result"
FORM = "dibao-publicity-result-schema.json"
NORMAL = "正常办理——县级审核确认，按差额计发，次月起发放并启动“一件事”联办"  # the first 低保 scenario

_TASK = (
    '<bpmn:userTask id="db_publicity_photo" name="上传公示照片">'
    "<bpmn:incoming>db_f_published</bpmn:incoming><bpmn:outgoing>db_f_photo</bpmn:outgoing></bpmn:userTask>\n"
    '    <bpmn:sequenceFlow id="db_f_photo" sourceRef="db_publicity_photo" targetRef="db_publicity_result" />\n'
)
_SHAPES = """      <bpmndi:BPMNShape id="db_publicity_photo_di" bpmnElement="db_publicity_photo">
        <dc:Bounds x="3729" y="320" width="100" height="80"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="db_f_photo_di" bpmnElement="db_f_photo">
        <di:waypoint x="3779" y="320"/>
        <di:waypoint x="3779" y="285"/>
      </bpmndi:BPMNEdge>
"""
_PUBLISHED_EDGE = """        <di:waypoint x="3672" y="245"/>
        <di:waypoint x="3729" y="245"/>"""
_PUBLISHED_EDGE_V2 = """        <di:waypoint x="3654" y="263"/>
        <di:waypoint x="3654" y="360"/>
        <di:waypoint x="3729" y="360"/>"""


def deploy_v1(engine: Engine) -> None:
    deploy_paths(engine, [PROCESSES / "sla", PROCESSES / "dibao", PROCESSES / "yijianshi"], FORMS, actor="designer")


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old  # the shipped files changed: this edit no longer applies
    return text.replace(old, new)


def deploy_v2(engine: Engine, tmp: Path) -> None:
    models, forms = tmp / "processes" / "dibao", tmp / "forms" / "dibao"
    shutil.copytree(PROCESSES / "dibao", models)
    shutil.copytree(FORMS / "dibao", forms)
    bpmn = (models / "dibao.bpmn").read_text(encoding="utf-8")
    bpmn = _replace(bpmn, 'name="登记公示结果"', 'name="登记公示结果并存档"')
    bpmn = _replace(
        bpmn,
        '<bpmn:sequenceFlow id="db_f_published" sourceRef="db_publicity" targetRef="db_publicity_result" />',
        '<bpmn:sequenceFlow id="db_f_published" sourceRef="db_publicity" targetRef="db_publicity_photo" />\n    '
        + _TASK,
    )
    ref = "<bpmn:flowNodeRef>{}</bpmn:flowNodeRef>"
    bpmn = _replace(bpmn, ref.format(RENAMED), ref.format(RENAMED) + ref.format(NEW_TASK))
    bpmn = _replace(bpmn, _PUBLISHED_EDGE, _PUBLISHED_EDGE_V2)
    bpmn = _replace(bpmn, "    </bpmndi:BPMNPlane>", _SHAPES + "    </bpmndi:BPMNPlane>")
    (models / "dibao.bpmn").write_text(bpmn, encoding="utf-8")
    schema = json.loads((forms / FORM).read_text(encoding="utf-8"))
    schema["properties"]["objection_summary"]["title"] = "异议内容摘要"
    schema["properties"]["publicity_place"] = {"type": "string", "title": "公示地点"}
    schema["required"].append("publicity_place")
    (forms / FORM).write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
    policy = tmp / "dibao.national.sla.json"
    text = (PROCESSES / "sla" / "dibao.national.sla.json").read_text(encoding="utf-8")
    policy.write_text(_replace(text, '"name": "公示", "limit": 7', '"name": "公示", "limit": 5'), encoding="utf-8")
    deploy_paths(engine, [policy, models], tmp / "forms", actor="designer")


def dibao_scenario_count() -> int:
    """How many scenarios features/dibao.feature holds as written."""
    lines = (ROOT / "features" / "dibao.feature").read_text(encoding="utf-8").splitlines()
    return sum(line.lstrip().startswith("场景") for line in lines)


def dibao_draft() -> dict[str, bytes]:
    paths = [*(PROCESSES / "dibao").glob("*.bpmn"), *(PROCESSES / "dibao").glob("*.dmn")]
    paths += [*(FORMS / "dibao").glob("*.json"), *(PROCESSES / "sla").glob("dibao.*.sla.json")]
    return {p.name: p.read_bytes() for p in paths}


# The 公示 deadline and timer of NORMAL as the shipped feature states them (7 working days
# from 2026-02-27), and the scenario updated for a 5-day 公示.
PUBLICITY_STEP = "并且 「公示」的期限是 2026年3月10日（星期二）"
_DEADLINE, _TIMER = "「公示」的期限是 2026年3月{}", "定时器恰好触发 1 次，在 2026年3月{} 24点"


def publicity_on_the_ninth(feature: str) -> str:
    """NORMAL's 公示 deadline and timer moved from 10 to 9 March (公示 cut from 7 to 5 days)."""
    updated = feature.replace(_DEADLINE.format("10日（星期二）"), _DEADLINE.format("9日（星期一）"), 1)
    updated = updated.replace(_TIMER.format("10日"), _TIMER.format("9日"), 1)
    assert updated.count("2026年3月9日") == feature.count("2026年3月9日") + 2, "the shipped scenario changed"
    return updated
