"""The studio's bpmnlint bundle (jiuzhu/web/studio_bundle/bpmnlint.js, built by ``make
studio-bundle``) run under node the way the page runs it over the modeler's model: every
shipped model gives no finding of the rules we keep, a violation comes back located with a
Chinese message and a BPMNLINT_ code, and the kept rules are the ones the designer's guide
lists as kept (with the reason for each dropped one)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from jiuzhu.web.vendor import NODE_MODULES, STUDIO_ASSETS

ROOT = Path(__file__).resolve().parents[3]
RUNNER = Path(__file__).with_name("bpmnlint_run.cjs")
MODDLE = NODE_MODULES / "bpmn-moddle" / "dist" / "index.cjs"
GUIDE = ROOT / "docs" / "designing-a-procedure.md"

# start → gateway → end, written without incoming/outgoing references (BPMN makes them optional):
# the gateway has one way in and one way out; a second blank start leads nowhere.
VIOLATING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" name="开始" />
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:endEvent id="end" name="结束" />
    <bpmn:startEvent id="stray" name="另一个开始" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def run(*files: Path) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is needed to run the studio's bpmnlint bundle"
    args = [node, str(RUNNER), str(STUDIO_ASSETS["bpmnlint.js"]), str(MODDLE), *map(str, files)]
    done = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_every_shipped_model_has_no_finding_of_a_kept_rule() -> None:
    models = sorted((ROOT / "processes").rglob("*.bpmn"))
    assert len(models) >= 5
    # twice over: what a rule remembers from one run must not leak into the next (the page lints
    # the same model on every change)
    findings = {name: found for name, found in run(*models, *models)["files"].items() if found}
    assert findings == {}


def test_a_violation_is_located_in_chinese_with_a_stable_code(tmp_path: Path) -> None:
    model = tmp_path / "violating.bpmn"
    model.write_text(VIOLATING, encoding="utf-8")
    found = run(model)["files"][str(model)]
    located = {(p["code"], p["element_id"]) for p in found}
    assert ("BPMNLINT_SUPERFLUOUS_GATEWAY", "gw") in located
    assert ("BPMNLINT_NO_IMPLICIT_END", "stray") in located
    assert ("BPMNLINT_SINGLE_BLANK_START_EVENT", "p") in located
    gateway = next(p for p in found if p["code"] == "BPMNLINT_SUPERFLUOUS_GATEWAY")
    assert gateway["message"] == "多余的网关：只有一个入口和一个出口，可以删去"
    assert all(p["severity"] == "warning" and re.search(r"[\u4e00-\u9fff]", p["message"]) for p in found)
    # what deploy reports itself is not repeated (no-disconnected, no-implicit-start: BPMN_UNREACHABLE)
    assert not {p["code"] for p in found} & {"BPMNLINT_NO_DISCONNECTED", "BPMNLINT_NO_IMPLICIT_START"}


def test_the_kept_rules_are_the_guides_kept_rules_and_every_recommended_rule_is_decided() -> None:
    table = dict(re.findall(r"^\| `([a-z-]+)` \| (kept|dropped) \|", GUIDE.read_text(encoding="utf-8"), re.M))
    recommended = subprocess.run(
        [shutil.which("node") or "node", "-p", "JSON.stringify(Object.keys(require(process.argv[1]).rules))",
         str(NODE_MODULES / "bpmnlint" / "config" / "recommended.js")],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert sorted(table) == sorted(json.loads(recommended.stdout))
    kept = {"BPMNLINT_" + rule.upper().replace("-", "_") for rule, verdict in table.items() if verdict == "kept"}
    assert set(run()["rules"]) == kept
