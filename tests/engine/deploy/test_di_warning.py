"""Deploy warns (never refuses) when an executable process has no diagram
(BPMN DI); every process file we ship carries a complete, non-overlapping one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from engine.deploy.builder import build_deployment
from engine.deploy.model import SourceFile, load_files
from engine.errors import Problem
from engine.runtime.connectors import StartProcess
from engine.sandbox.scripts import Sandbox
from engine.service.core import DeployResult
from engine.sla.functions import HELPERS
from jiuzhu import cli
from jiuzhu.api_common import deploy_json
from jiuzhu.wiring import default_connectors

ROOT = Path(__file__).resolve().parents[3]
PROCESSES = ROOT / "processes"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
FLOW_NODE_SUFFIXES = ("Task", "Event", "Gateway")

BARE = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:bpmndi="{BPMNDI}" xmlns:dc="{DC}" id="defs" targetNamespace="t">
  <bpmn:process id="bare" name="无图流程" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:scriptTask id="work"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
  </bpmn:process>
  DIAGRAM
</bpmn:definitions>
"""
PARTIAL = """<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="bare">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start">
      <dc:Bounds x="0" y="0" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="work_di" bpmnElement="work">
      <dc:Bounds x="80" y="0" width="100" height="80" /></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"""


def build(text: str, name: str = "third_party/bare.bpmn") -> tuple[Problem, ...]:
    deployment = build_deployment([SourceFile(name, text.encode())], sandbox=Sandbox(), resolve_form=lambda *_: None)
    assert list(deployment.processes) == ["bare"]  # a warning, not a refusal
    return deployment.warnings


def test_process_without_di_deploys_with_a_located_warning() -> None:
    (warning,) = build(BARE.replace("DIAGRAM", ""))
    assert warning.code == "BPMN_NO_DI"
    assert warning.location.file == "third_party/bare.bpmn"
    assert warning.location.element_id == "bare"
    assert "没有流程图" in warning.message and "bare" in warning.message


def test_partial_di_names_the_elements_without_a_shape() -> None:
    (warning,) = build(BARE.replace("DIAGRAM", PARTIAL))
    assert warning.code == "BPMN_DI_INCOMPLETE"
    assert warning.location.element_id == "end"
    assert "1 个元素" in warning.message and "end" in warning.message


def test_warnings_reach_the_api_result_and_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warning = build(BARE.replace("DIAGRAM", ""))[0]
    body = deploy_json(DeployResult("h", True, [], (), (warning,)))
    assert body["warnings"] == [warning.to_dict()] and body["warnings"][0]["code"] == "BPMN_NO_DI"

    model = tmp_path / "bare.bpmn"
    model.write_text(BARE.replace("DIAGRAM", ""), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'j.db'}")
    assert cli.main(["deploy", str(model)]) == 0
    out = capsys.readouterr()
    assert "bare v1" in out.out
    assert "警告 bare.bpmn: bare (bpmn:process): [BPMN_NO_DI]" in out.err


def real_files() -> list[Path]:
    return sorted(PROCESSES.rglob("*.bpmn"))


def test_every_process_file_deploys_without_a_diagram_warning() -> None:
    files, resolve = load_files([PROCESSES], ROOT / "forms")
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json").including(StartProcess(str))
    deployment = build_deployment(files, sandbox=Sandbox(helpers=HELPERS), resolve_form=resolve, connectors=connectors)
    assert len(deployment.processes) >= 8
    assert deployment.warnings == ()


def test_the_generated_diagrams_are_up_to_date() -> None:
    tool = ROOT / "tools" / "layout_bpmn.py"
    done = subprocess.run([sys.executable, str(tool), "--check", str(PROCESSES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def bounds(shape: etree._Element) -> tuple[float, float, float, float]:
    b = shape.find(f"{{{DC}}}Bounds")
    assert b is not None
    return (float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height")))


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("path", real_files(), ids=lambda p: p.name)
def test_diagram_is_complete_laned_and_without_overlaps(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    process = root.find(f"{{{BPMN}}}process")
    assert process is not None
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{{{BPMNDI}}}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{BPMNDI}}}BPMNEdge")}
    nodes = [e for e in process if isinstance(e.tag, str) and etree.QName(e).localname.endswith(FLOW_NODE_SUFFIXES)]
    nodes += process.findall(f"{{{BPMN}}}callActivity")
    assert nodes and all(n.get("id") in shapes for n in nodes)
    for flow in process.iterfind(f"{{{BPMN}}}sequenceFlow"):
        points = edges[flow.get("id")].findall(f"{{{DI}}}waypoint")
        assert len(points) >= 2
        xs = [(float(p.get("x")), float(p.get("y"))) for p in points]
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in zip(xs, xs[1:], strict=False)), flow.get("id")
    lanes = process.findall(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane")
    if lanes:
        participant = root.find(f"{{{BPMN}}}collaboration/{{{BPMN}}}participant")
        assert participant is not None and participant.get("processRef") == process.get("id")
        pool = bounds(shapes[participant.get("id")])
        for lane in lanes:
            band = bounds(shapes[lane.get("id")])
            for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef"):
                x, y, w, h = bounds(shapes[ref.text])
                assert band[1] <= y and y + h <= band[1] + band[3] + 20, ref.text  # boundary events overhang
                assert pool[0] <= x and x + w <= pool[0] + pool[2]
    solid = [n for n in nodes if etree.QName(n).localname != "boundaryEvent"]
    for i, a in enumerate(solid):
        for b in solid[i + 1 :]:
            assert not overlaps(bounds(shapes[a.get("id")]), bounds(shapes[b.get("id")])), (a.get("id"), b.get("id"))
    for event in process.iterfind(f"{{{BPMN}}}boundaryEvent"):
        x, y, w, h = bounds(shapes[event.get("id")])
        hx, hy, hw, hh = bounds(shapes[event.get("attachedToRef")])
        assert hx <= x + w / 2 <= hx + hw and y < hy + hh < y + h  # on the host's lower border
