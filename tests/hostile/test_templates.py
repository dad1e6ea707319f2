"""Hostile templates (``tests/hostile/templates/``): refused at deploy with their task and line, or,
when only the data makes them big, stopped by the budget with a located message on a task page
that still answers 200 and can still be worked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from jinja2 import DictLoader, StrictUndefined

from engine.errors import DeploymentRefused, InvalidRequestError
from engine.sandbox.templates import TemplateLimits, environment
from engine.service.facade import Engine
from jiuzhu.web import notice_pdf
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES
from tests.support.web_support import WebWorld, csrf_of, make_world

CORPUS = Path(__file__).resolve().parent / "templates"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
SKELETON = PROCESSES / "sla_skeleton" / "sla_skeleton.bpmn"
TASK = "accept_review"  # the skeleton's first user task, in the 乡镇(街道)经办人 lane


def with_instructions(template: str, folder: Path) -> Path:
    """The skeleton process with `template` as its first task's instructions."""
    source = SKELETON.read_text(encoding="utf-8")
    anchor = f'<bpmn:userTask id="{TASK}" name="受理审查">\n      <bpmn:extensionElements>'
    assert anchor in source
    extra = f"\n        <spiffworkflow:instructionsForEndUser>{escape(template)}</spiffworkflow:instructionsForEndUser>"
    model = folder / "sla_skeleton.bpmn"
    model.write_text(source.replace(anchor, anchor + extra), encoding="utf-8")
    return model


def data_of(spec: dict[str, Any]) -> dict[str, Any]:
    """Case data from its description: {"range": n} is a list of n numbers, {"repeat": [s, n]} is s * n."""

    def value(v: Any) -> Any:
        if isinstance(v, dict) and "range" in v:
            return list(range(v["range"]))
        if isinstance(v, dict) and "repeat" in v:
            text, times = v["repeat"]
            return text * times
        return v

    return {k: value(v) for k, v in spec.items()}


@pytest.mark.parametrize("name", sorted(EXPECTED["refused"]))
def test_unbounded_templates_are_refused_at_deploy_with_task_and_line(
    name: str, make_engine_for: Callable[..., Engine], tmp_path: Path
) -> None:
    engine = make_engine_for()
    model = with_instructions((CORPUS / name).read_text(encoding="utf-8").strip(), tmp_path)
    with pytest.raises(DeploymentRefused) as refused:
        deploy_paths(engine, [PROCESSES / "sla", model], FORMS, actor="designer")
    problems = [p for p in refused.value.errors if p.code == "INSTRUCTIONS_TEMPLATE"]
    assert len(problems) == 1, refused.value.errors
    problem = problems[0]
    assert problem.location.element_id == TASK and (problem.location.file or "").endswith("sla_skeleton.bpmn")
    assert problem.message.startswith("办理说明模板第 1 行") and EXPECTED["refused"][name] in problem.message


@pytest.fixture
def world(make_engine_for: Callable[..., Engine], db_url: str) -> WebWorld:
    return make_world(make_engine_for, db_url, JIUZHU_SCRIPT_CPU_SECONDS="0.5")


@pytest.mark.parametrize("name", sorted(EXPECTED["over_budget"]))
def test_a_template_over_budget_on_the_data_shows_a_located_message_and_the_task_can_be_worked(
    name: str, world: WebWorld, tmp_path: Path
) -> None:
    case = EXPECTED["over_budget"][name]
    model = with_instructions((CORPUS / name).read_text(encoding="utf-8").strip(), tmp_path)
    deploy_paths(world.engine, [model], FORMS, actor="designer")  # nothing to see at deploy: it is the data
    data = {"applicant": {"name": "张三", "id_number": "330102199001011234"}, **data_of(case["data"])}
    view = world.engine.start("sla_skeleton", data, actor="system", org_unit="qinghe.dongcheng.hepan", region="CN")
    task = world.task_of(view.record.id)
    client = world.signed_in("jb_dongcheng")
    page = client.get(f"/tasks/{task}")
    assert page.status_code == 200
    codes = case["code"] if isinstance(case["code"], list) else [case["code"]]
    assert f"办理说明无法显示：流程 sla_skeleton 任务 {TASK} 的办理说明模板" in page.text
    shown = page.text[page.text.find("办理说明无法显示") :][:400]
    assert any(code in shown for code in codes), shown
    assert len(page.text) < 200_000  # the output cap held: no flood reached the page
    claimed = client.post(f"/tasks/{task}/claim", data={"csrf_token": csrf_of(page.text)})
    assert claimed.status_code in (200, 303)  # the task is still worked as usual
    assert client.get("/inbox").status_code == 200  # and the server answers others


def test_a_notice_template_over_budget_is_a_located_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    flood = "@p {% for a in rows %}{% for b in rows %}{{ a }}{{ b }}{% endfor %}{% endfor %}"
    loader = DictLoader({"flood.txt": flood})
    # CPU to spare (coverage on a busy machine is slow): what must stop it is the output cap.
    env = environment(TemplateLimits(cpu_seconds=60), loader=loader, autoescape=True, undefined=StrictUndefined)
    monkeypatch.setattr(notice_pdf, "_env", env)
    with pytest.raises(InvalidRequestError) as refused:
        notice_pdf.notice_lines("flood.txt", {"rows": list(range(5000))})
    assert refused.value.code == "TEMPLATE_OUTPUT"
    assert refused.value.location.file == "jiuzhu/web/templates/notice/flood.txt"
    assert "通知模板 flood.txt 无法生成：模板输出过长" in refused.value.message
