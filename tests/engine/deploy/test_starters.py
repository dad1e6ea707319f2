"""Who may start a process is model data: the start event's ``starterRoles``,
checked at deploy against the roles the edge knows."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from engine.deploy.builder import build_deployment
from engine.deploy.model import Deployment, SourceFile
from engine.errors import DeploymentRefused
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from jiuzhu.accounts import role_names_from
from tests.conftest import ROOT

ROLES = role_names_from(ROOT / "demo" / "users.json")
FORM = SourceFile(
    "apply-schema.json",
    json.dumps({"type": "object", "properties": {"name": {"type": "string"}}}).encode(),
)
MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="t">
  <bpmn:process id="apply" name="申请" isExecutable="true">
    <bpmn:startEvent id="apply_start" name="提出申请"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="apply-schema.json" />PROPERTY
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="apply_start" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def model(roles: str | None) -> list[SourceFile]:
    declared = "" if roles is None else f'<spiffworkflow:property name="starterRoles" value="{roles}" />'
    return [SourceFile("procedures/apply.bpmn", MODEL.replace("PROPERTY", declared).encode())]


def build(roles: str | None, known: dict[str, str] | None = ROLES) -> Deployment:
    return build_deployment(model(roles), sandbox=Sandbox(), resolve_form=lambda *_: FORM, roles=known)


def test_the_declared_roles_are_part_of_the_deployed_definition() -> None:
    deployment = build("village_assistant, township_handler village_assistant")
    definition = deployment.processes["apply"]
    assert definition.starter_roles == ("village_assistant", "township_handler")
    assert not [w for w in deployment.warnings if w.code == "START_NO_STARTER_ROLES"]


def test_an_unknown_role_is_refused_naming_the_file_and_the_start_event() -> None:
    with pytest.raises(DeploymentRefused) as refused:
        build("village_assistant village_head")
    [problem] = [p for p in refused.value.errors if p.code == "STARTER_ROLE_UNKNOWN"]
    assert (problem.location.file, problem.location.element_id) == ("procedures/apply.bpmn", "apply_start")
    assert "village_head" in problem.message and "village_assistant" in problem.message  # the known ones listed


def test_without_a_roles_list_only_the_form_of_a_role_code_is_checked() -> None:
    assert build("county_officer", known=None).processes["apply"].starter_roles == ("county_officer",)
    with pytest.raises(DeploymentRefused) as refused:
        build("乡镇经办人", known=None)
    assert refused.value.errors[0].code == "STARTER_ROLE_UNKNOWN"


def test_a_start_form_without_starter_roles_warns_and_an_empty_value_says_nobody_on_purpose() -> None:
    [warning] = [w for w in build(None).warnings if w.code == "START_NO_STARTER_ROLES"]
    assert warning.location.element_id == "apply_start" and "starterRoles" in warning.message
    quiet = build("")
    assert quiet.processes["apply"].starter_roles == ()
    assert not [w for w in quiet.warnings if w.code == "START_NO_STARTER_ROLES"]


def test_the_engine_checks_against_the_roles_it_was_given(make_engine_for: Callable[..., Engine]) -> None:
    engine = make_engine_for()
    engine.core.roles = frozenset(ROLES)
    with pytest.raises(DeploymentRefused) as refused:
        engine.deploy(model("nobody"), lambda *_: FORM, actor="designer")
    assert refused.value.errors[0].location.element_id == "apply_start"
    engine.deploy(model("township_handler"), lambda *_: FORM, actor="designer")
    [version] = engine.versions("apply")
    assert version.definition["starter_roles"] == ["township_handler"]
