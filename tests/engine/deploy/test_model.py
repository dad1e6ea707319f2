"""build_deployment: what deploys, what is refused, and where each refusal points."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from engine.deploy.builder import build_deployment
from engine.deploy.model import Deployment, FormResolver, SourceFile, content_hash, load_files
from engine.errors import DeploymentRefused, InvalidRequestError, Problem
from engine.runtime.serialization import spec_from_dict
from engine.sandbox.scripts import Sandbox
from tests.conftest import FIXTURES

DEPLOYMENT = FIXTURES / "deployment"
FORMS = DEPLOYMENT / "forms"
SANDBOX = Sandbox()

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
)


def model(
    body: str, *, pid: str = "p", executable: str | None = "true", defs: str = "", name: str = "m.bpmn"
) -> SourceFile:
    flag = f' isExecutable="{executable}"' if executable is not None else ""
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="defs" targetNamespace="t">\n'
        f'{defs}<bpmn:process id="{pid}"{flag}>\n{body}\n</bpmn:process>\n</bpmn:definitions>\n'
    )
    return SourceFile(name, text.encode())


def chain(*nodes: tuple[str, str]) -> str:
    """start → nodes… → end, one element per line."""
    ids = ["start", *(node_id for node_id, _ in nodes), "end"]
    parts = ['<bpmn:startEvent id="start" />', *(xml for _, xml in nodes), '<bpmn:endEvent id="end" />']
    parts += [
        f'<bpmn:sequenceFlow id="f_{a}" sourceRef="{a}" targetRef="{b}" />' for a, b in zip(ids, ids[1:], strict=False)
    ]
    return "\n".join(parts)


def timer(kind: str, text: str, event_id: str = "wait") -> tuple[str, str]:
    definition = f"<bpmn:timerEventDefinition><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>"
    return event_id, f'<bpmn:intermediateCatchEvent id="{event_id}">{definition}</bpmn:intermediateCatchEvent>'


def event(tag: str, event_id: str, inner: str) -> tuple[str, str]:
    return event_id, f'<bpmn:{tag} id="{event_id}">{inner}</bpmn:{tag}>'


def script_task(task_id: str, script: str, script_format: str | None = None) -> tuple[str, str]:
    attr = f' scriptFormat="{script_format}"' if script_format else ""
    return task_id, f'<bpmn:scriptTask id="{task_id}"{attr}><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'


def form_task(task_id: str, schema: str) -> tuple[str, str]:
    prop = f'<spiffworkflow:property name="formJsonSchemaFilename" value="{schema}" />'
    extension = (
        f"<bpmn:extensionElements><spiffworkflow:properties>{prop}</spiffworkflow:properties></bpmn:extensionElements>"
    )
    return task_id, f'<bpmn:userTask id="{task_id}">{extension}</bpmn:userTask>'


def gateway_with(condition: str) -> str:
    """start → gw → end (default), plus gw → other under ``condition`` on flow ``yes``."""
    body = chain(("gw", '<bpmn:exclusiveGateway id="gw" default="f_gw" />'))
    flow = f'<bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="other">{condition}</bpmn:sequenceFlow>'
    return f'{body}\n<bpmn:endEvent id="other" />\n{flow}'


def fixture_forms(bpmn_name: str, form_name: str) -> SourceFile | None:
    path = FORMS / form_name
    return SourceFile(f"forms/{form_name}", path.read_bytes()) if path.is_file() else None


def deploy(*files: SourceFile) -> Deployment:
    return build_deployment(list(files), sandbox=SANDBOX, resolve_form=fixture_forms)


def refused(*files: SourceFile) -> list[Problem]:
    with pytest.raises(DeploymentRefused) as caught:
        deploy(*files)
    problems = caught.value.errors
    assert problems
    for problem in problems:
        assert problem.location.file and problem.location.element_id, problem
    return problems


def refused_with(files: list[SourceFile], resolve: FormResolver) -> list[Problem]:
    with pytest.raises(DeploymentRefused) as caught:
        build_deployment(files, sandbox=SANDBOX, resolve_form=resolve)
    return caught.value.errors


def only(problems: list[Problem], code: str) -> Problem:
    matching = [p for p in problems if p.code == code]
    assert len(matching) == 1, problems
    return matching[0]


def line_of(source: SourceFile, needle: str) -> int:
    return next(n for n, line in enumerate(source.content.decode().splitlines(), 1) if needle in line)


def fixture(name: str) -> SourceFile:
    return SourceFile(name, (DEPLOYMENT / name).read_bytes())


# -- what deploys ---------------------------------------------------------------------------------


def test_approval_fixture_deploys_with_user_tasks_forms_timers_and_names() -> None:
    deployment = deploy(fixture("approval.bpmn"))
    assert deployment.documentation_only == ()
    definition = deployment.processes["approval"]
    assert (definition.name, definition.file) == ("低保申请审批", "approval.bpmn")
    apply = definition.user_tasks["apply"]
    assert (apply.element_id, apply.name, apply.lane) == ("apply", "填写申请", "申请人")
    assert apply.variable_name == "application"
    assert apply.instructions == "请如实填写家庭情况"
    assert apply.form is not None
    assert apply.form.schema_file == "forms/apply-schema.json"
    assert apply.form.ui_schema_file == "forms/apply-uischema.json"
    assert apply.form.schema["required"] == ["name", "household_size"]
    assert definition.user_tasks["review"].form is None
    assert definition.element_names["gw"] == "是否符合条件"
    assert definition.element_names["f_yes"] == "符合"
    assert definition.element_names["approval"] == "低保申请审批"
    restored = spec_from_dict(definition.spec)
    assert "apply" in restored.spec.task_specs
    names = {f.name for f in deployment.files}
    assert names == {"approval.bpmn", "forms/apply-schema.json", "forms/apply-uischema.json"}


def test_unquoted_iso_duration_is_rewritten_into_a_python_string() -> None:
    definition = deploy(fixture("approval.bpmn")).processes["approval"]
    assert definition.timers == {"remind": '"P2D"'}
    restored = spec_from_dict(definition.spec)
    assert restored.spec.task_specs["remind"].event_definition.expression == '"P2D"'


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("timeDuration", "PT5M", '"PT5M"'),
        ("timeCycle", "R3/PT10M", '"R3/PT10M"'),
        ("timeDate", "2026-12-01T09:00:00+08:00", '"2026-12-01T09:00:00+08:00"'),
        ("timeDuration", "'PT1H'", "'PT1H'"),
        ("timeDate", "deadline", "deadline"),
    ],
)
def test_timer_literals_and_expressions_accepted(kind: str, text: str, expected: str) -> None:
    definition = deploy(model(chain(timer(kind, text)))).processes["p"]
    assert definition.timers == {"wait": expected}


def test_content_hash_covers_forms_and_ignores_order() -> None:
    deployment = deploy(fixture("approval.bpmn"), fixture("child.bpmn"))
    again = deploy(fixture("child.bpmn"), fixture("approval.bpmn"))
    assert deployment.content_hash == again.content_hash == content_hash(list(deployment.files))
    assert content_hash([SourceFile("a", b"bc")]) != content_hash([SourceFile("ab", b"c")])


def test_call_activity_resolves_within_the_deployment() -> None:
    deployment = deploy(fixture("parent.bpmn"), fixture("child.bpmn"))
    parent = deployment.processes["parent"]
    assert set(parent.spec["subprocess_specs"]) == {"child"}
    assert parent.user_tasks["visit"].name == "入户调查"
    assert parent.timers == {"visit_deadline": '"2030-01-01T09:00:00+08:00"'}


def test_business_rule_task_with_dmn_deploys() -> None:
    deployment = deploy(fixture("subsidy.bpmn"), fixture("subsidy.dmn"))
    assert list(deployment.processes) == ["subsidy"]
    assert "subsidy.dmn" in {f.name for f in deployment.files}


def test_documentation_only_files_are_stored_not_parsed() -> None:
    # Link events, data stores and vendor attributes are fine in documentation.
    body = chain(event("intermediateThrowEvent", "link", '<bpmn:linkEventDefinition name="x" />'))
    body += '\n<bpmn:dataStoreReference id="ref" dataStoreRef="store" />\n<bpmn:userTask id="u" camunda:assignee="x" />'
    defs = '<bpmn:dataStore id="store" name="档案库" />\n'
    deployment = deploy(
        model(body, executable="false", defs=defs, name="a.bpmn"),
        model(body, executable=None, defs=defs, name="b.bpmn"),
    )
    assert deployment.processes == {}
    assert deployment.documentation_only == ("a.bpmn", "b.bpmn")


def test_non_executable_process_beside_an_executable_one_is_ignored() -> None:
    text = (
        fixture("child.bpmn")
        .content.decode()
        .replace(
            "</bpmn:definitions>",
            '<bpmn:dataStore id="ds" name="外部系统" /><bpmn:process id="sketch" isExecutable="false">'
            '<bpmn:complexGateway id="cg" /></bpmn:process></bpmn:definitions>',
        )
    )
    assert list(deploy(SourceFile("child.bpmn", text.encode())).processes) == ["child"]


# -- refusals, each located ---------------------------------------------------------------------------


def test_link_event_refused() -> None:
    source = model(chain(event("intermediateThrowEvent", "jump", '<bpmn:linkEventDefinition name="L" />')))
    problem = only(refused(source), "BPMN_LINK_EVENT")
    assert (problem.location.file, problem.location.element_id) == ("m.bpmn", "jump")
    assert problem.location.element_tag == "bpmn:intermediateThrowEvent"
    assert problem.location.line == line_of(source, "linkEventDefinition")


def test_complex_gateway_refused() -> None:
    problem = only(refused(model(chain(("cg", '<bpmn:complexGateway id="cg" />')))), "BPMN_UNSUPPORTED_ELEMENT")
    assert problem.location.element_id == "cg"


def test_compensation_refused() -> None:
    body = chain(("work", '<bpmn:task id="work" />'))
    body += (
        '\n<bpmn:boundaryEvent id="comp" attachedToRef="work"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>'
    )
    body += '\n<bpmn:task id="undo" isForCompensation="true" />'
    problems = refused(model(body))
    assert {p.location.element_id for p in problems if p.code == "BPMN_COMPENSATION"} == {"comp", "undo"}


def test_javascript_script_refused() -> None:
    problems = refused(model(chain(script_task("js", "var a = 1;", "javascript"))))
    assert only(problems, "BPMN_DIALECT").location.element_id == "js"
    assert not [p for p in problems if p.code.startswith("SCRIPT_")]  # not reported twice


def test_juel_condition_refused_at_the_sequence_flow() -> None:
    problems = refused(model(gateway_with("<bpmn:conditionExpression>${approved}</bpmn:conditionExpression>")))
    problem = only(problems, "BPMN_DIALECT")
    assert (problem.location.element_id, problem.location.element_tag) == ("yes", "bpmn:sequenceFlow")
    assert not [p for p in problems if p.code.startswith("SCRIPT_")]


def test_condition_in_another_language_refused() -> None:
    body = gateway_with('<bpmn:conditionExpression language="groovy">ok</bpmn:conditionExpression>')
    assert only(refused(model(body)), "BPMN_DIALECT").location.element_id == "yes"


def test_python_condition_syntax_error_located_at_the_sequence_flow() -> None:
    body = gateway_with("<bpmn:conditionExpression>amount &gt;</bpmn:conditionExpression>")
    assert only(refused(model(body)), "SCRIPT_SYNTAX").location.element_id == "yes"


def test_conditions_outside_gateway_exits_refused() -> None:
    condition = "<bpmn:conditionExpression>ok</bpmn:conditionExpression>"
    task_flow = f'<bpmn:sequenceFlow id="cond" sourceRef="t" targetRef="end">{condition}</bpmn:sequenceFlow>'
    body = '<bpmn:startEvent id="start" /><bpmn:task id="t" /><bpmn:endEvent id="end" />'
    body += f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t" />{task_flow}'
    assert only(refused(model(body)), "BPMN_UNSUPPORTED_ELEMENT").location.element_id == "cond"
    default_flow = gateway_with(condition).replace('default="f_gw"', 'default="yes"')
    assert only(refused(model(default_flow)), "BPMN_UNSUPPORTED_ELEMENT").location.element_id == "yes"


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("timeCycle", "0 0/5 * * * ?"),
        ("timeDate", "2026-12-01T09:00:00"),
        ("timeDate", '"2026-12-01T09:00:00"'),
        ("timeDuration", "${reminder}"),
        ("timeDuration", "P1W2D"),
        ("timeDate", "PT5M"),
        ("timeCycle", "R/2026-01-01T00:00:00/PT1H"),
        ("timeDuration", " "),
    ],
)
def test_bad_timers_refused(kind: str, text: str) -> None:
    source = model(chain(timer(kind, text)))
    problem = only(refused(source), "TIMER_INVALID")
    assert (problem.location.element_id, problem.location.element_tag) == ("wait", "bpmn:intermediateCatchEvent")
    assert problem.location.line == line_of(source, kind)


def test_timer_expression_goes_through_the_sandbox() -> None:
    source = model(chain(timer("timeDate", '__import__("os").getcwd()')))
    assert only(refused(source), "SCRIPT_FORBIDDEN").location.element_id == "wait"


def test_import_in_script_task_forbidden_at_that_element() -> None:
    source = model(chain(script_task("s", "import os")))
    problem = only(refused(source), "SCRIPT_FORBIDDEN")
    assert (problem.location.file, problem.location.element_id) == ("m.bpmn", "s")


def test_pre_and_post_scripts_are_compiled() -> None:
    task = (
        '<bpmn:userTask id="u"><bpmn:extensionElements><spiffworkflow:preScript>x = (</spiffworkflow:preScript>'
        "</bpmn:extensionElements></bpmn:userTask>"
    )
    assert only(refused(model(chain(("u", task)))), "SCRIPT_SYNTAX").location.element_id == "u"


def test_payload_correlation_multi_instance_and_conditional_expressions_are_compiled() -> None:
    payload = "<spiffworkflow:messagePayload>{'id': app_id,</spiffworkflow:messagePayload>"
    retrieval = (
        '<bpmn:correlationPropertyRetrievalExpression messageRef="m1">'
        "<bpmn:formalExpression>payload.__class__</bpmn:formalExpression>"
        "</bpmn:correlationPropertyRetrievalExpression>"
    )
    defs = (
        f'<bpmn:message id="m1" name="申请已提交"><bpmn:extensionElements>{payload}</bpmn:extensionElements>'
        f'</bpmn:message><bpmn:correlationProperty id="cp" name="申请号">{retrieval}</bpmn:correlationProperty>\n'
    )
    loop = (
        "<bpmn:loopCardinality>3 +</bpmn:loopCardinality><bpmn:completionCondition>done ==</bpmn:completionCondition>"
    )
    mi = f"<bpmn:multiInstanceLoopCharacteristics>{loop}</bpmn:multiInstanceLoopCharacteristics>"
    condition = (
        "<bpmn:conditionalEventDefinition><bpmn:condition>ready and</bpmn:condition></bpmn:conditionalEventDefinition>"
    )
    body = chain(
        event("intermediateThrowEvent", "send", '<bpmn:messageEventDefinition messageRef="m1" />'),
        event("task", "mi", mi),
        event("intermediateCatchEvent", "when", condition),
    )
    found = sorted((p.code, p.location.element_id) for p in refused(model(body, defs=defs)))
    assert found == [
        ("SCRIPT_FORBIDDEN", "cp"),
        ("SCRIPT_SYNTAX", "mi"),
        ("SCRIPT_SYNTAX", "mi"),
        ("SCRIPT_SYNTAX", "send"),
        ("SCRIPT_SYNTAX", "when"),
    ]


def test_missing_form_refused() -> None:
    problem = only(refused(model(chain(form_task("u", "nowhere-schema.json")))), "FORM_MISSING")
    assert problem.location.element_id == "u"
    assert "nowhere-schema.json" in problem.message


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ("broken-schema.json", "FORM_SCHEMA_INVALID"),
        ("dialect-schema.json", "FORM_DIALECT"),
        ("not-json-schema.json", "FORM_SCHEMA_INVALID"),
    ],
)
def test_invalid_form_refused(form: str, code: str) -> None:
    problems = refused(model(chain(form_task("u", form))))
    assert {p.code for p in problems} == {code}
    assert all(p.location.element_id == "u" for p in problems)


def test_duplicate_process_refused() -> None:
    problems = refused(fixture("child.bpmn"), SourceFile("copy.bpmn", fixture("child.bpmn").content))
    problem = only(problems, "PROCESS_DUPLICATE")
    assert (problem.location.file, problem.location.element_id) == ("copy.bpmn", "child")


def test_no_start_event_refused() -> None:
    problem = only(refused(model('<bpmn:task id="t" />')), "BPMN_NO_START")
    assert (problem.location.element_id, problem.location.element_tag) == ("p", "bpmn:process")


def test_service_task_refused() -> None:
    problem = only(refused(model(chain(("svc", '<bpmn:serviceTask id="svc" />')))), "BPMN_SERVICE_TASK")
    assert problem.location.element_id == "svc"


def test_data_store_reference_refused() -> None:
    body = chain(("t", '<bpmn:task id="t" />')) + '\n<bpmn:dataStoreReference id="ref" dataStoreRef="store" />'
    problems = refused(model(body, defs='<bpmn:dataStore id="store" name="档案库" />\n'))
    assert only(problems, "BPMN_DATA_STORE").location.element_id == "ref"


def test_vendor_execution_extensions_refused_descriptive_ones_ignored() -> None:
    task = (
        '<bpmn:userTask id="u" camunda:assignee="demo" camunda:formKey="f">'
        '<bpmn:extensionElements><zeebe:taskDefinition type="x" /><camunda:properties />'
        "</bpmn:extensionElements></bpmn:userTask>"
    )
    problems = refused(model(chain(("u", task))))
    dialect = [p for p in problems if p.code == "BPMN_DIALECT"]
    assert {p.location.element_id for p in dialect} == {"u"}
    assert len(dialect) == 2
    assert "camunda:assignee" in dialect[0].message and "camunda:formKey" in dialect[0].message
    assert "zeebe:taskDefinition" in dialect[1].message


def test_error_start_event_and_interrupting_event_subprocess_refused() -> None:
    body = chain(("t", '<bpmn:task id="t" />'))
    body += (
        '\n<bpmn:subProcess id="esp" triggeredByEvent="true">'
        '<bpmn:startEvent id="es"><bpmn:errorEventDefinition /></bpmn:startEvent>'
        '<bpmn:sequenceFlow id="esf" sourceRef="es" targetRef="ee" /><bpmn:endEvent id="ee" /></bpmn:subProcess>'
    )
    problems = refused(model(body))
    assert [p.location.element_id for p in problems if p.code == "BPMN_UNSUPPORTED_ELEMENT"] == ["es", "es"]


def test_dangling_references_refused() -> None:
    body = chain(event("intermediateThrowEvent", "send", '<bpmn:messageEventDefinition messageRef="nowhere" />'))
    body += '\n<bpmn:sequenceFlow id="lost" sourceRef="send" targetRef="ghost" />'
    problems = refused(model(body))
    assert sorted((p.location.element_id for p in problems if p.code == "BPMN_REFERENCE"), key=str) == ["lost", "send"]
    assert not [p for p in problems if p.code == "BPMN_PARSE"]


def test_unconnected_element_refused() -> None:
    body = chain(("t", '<bpmn:task id="t" />')) + '\n<bpmn:userTask id="orphan" name="孤立任务" />'
    assert only(refused(model(body)), "BPMN_UNREACHABLE").location.element_id == "orphan"


def test_call_activity_target_must_be_an_executable_process_of_the_deployment() -> None:
    assert only(refused(fixture("parent.bpmn")), "BPMN_CALL_ACTIVITY").location.element_id == "call_child"
    body = chain(("call", '<bpmn:callActivity id="call" calledElement="sketch" />'))
    sketch = '<bpmn:process id="sketch" isExecutable="false"><bpmn:startEvent id="x" /></bpmn:process>'
    text = model(body).content.decode().replace("</bpmn:definitions>", sketch + "</bpmn:definitions>")
    assert only(refused(SourceFile("m.bpmn", text.encode())), "BPMN_CALL_ACTIVITY").location.element_id == "call"


def test_dmn_problems_are_located_in_the_dmn_file() -> None:
    text = fixture("subsidy.dmn").content.decode()
    feel = text.replace("<text>&gt;= 4</text>", "<text>[4..10]</text>")
    problem = only(refused(fixture("subsidy.bpmn"), SourceFile("subsidy.dmn", feel.encode())), "SCRIPT_SYNTAX")
    assert (problem.location.file, problem.location.element_id) == ("subsidy.dmn", "rule_big_size")
    first = text.replace('hitPolicy="UNIQUE"', 'hitPolicy="FIRST"')
    problems = refused(fixture("subsidy.bpmn"), SourceFile("subsidy.dmn", first.encode()))
    assert only(problems, "DMN_INVALID").location.element_id == "subsidy_table"
    assert only(refused(fixture("subsidy.bpmn")), "DMN_MISSING").location.element_id == "decide"
    # An output cell that is not Python, and a table without outputs: named in Chinese on the
    # cell and the table (SpiffWorkflow's and the schema's English would say less).
    unclosed = text.replace("<text>500</text>", '<text>"500</text>')
    problem = only(refused(fixture("subsidy.bpmn"), SourceFile("subsidy.dmn", unclosed.encode())), "SCRIPT_SYNTAX")
    assert problem.location.element_id == "rule_mid_out" and 'DMN 输出「"500」：第 1 行有语法错误' in problem.message
    outputs = re.sub(r"<output [^>]*/>|<outputEntry [^>]*>.*?</outputEntry>", "", text)
    problems = refused(fixture("subsidy.bpmn"), SourceFile("subsidy.dmn", outputs.encode()))
    assert only(problems, "DMN_NO_OUTPUT").location.element_id == "subsidy_table"
    assert [p.code for p in problems if p.location.file == "subsidy.dmn"] == ["DMN_NO_OUTPUT"]


def test_every_problem_is_reported_not_just_the_first() -> None:
    body = chain(
        ("cg", '<bpmn:complexGateway id="cg" />'),
        script_task("js", "x", "groovy"),
        script_task("s", "import os"),
    )
    duplicate = SourceFile("dup.bpmn", fixture("child.bpmn").content)
    codes = {p.code for p in refused(model(body), fixture("child.bpmn"), duplicate)}
    assert {"BPMN_UNSUPPORTED_ELEMENT", "BPMN_DIALECT", "SCRIPT_FORBIDDEN", "PROCESS_DUPLICATE"} <= codes


def test_spiffworkflow_validation_errors_are_wrapped_and_located() -> None:
    body = chain(("gw", '<bpmn:exclusiveGateway id="gw" />'))
    body += '\n<bpmn:endEvent id="other" />\n<bpmn:sequenceFlow id="bare" sourceRef="gw" targetRef="other" />'
    problem = only(refused(model(body)), "BPMN_PARSE")
    assert problem.location.element_id in {"bare", "f_gw"}
    assert "Element" not in problem.message and "0x" not in problem.message


def test_xsd_errors_point_at_the_element_on_their_line() -> None:
    source = model(chain(("t", '<bpmn:task id="t" colour="red" />')))
    problem = only(refused(source), "BPMN_XSD")
    assert (problem.location.element_id, problem.location.line) == ("t", line_of(source, 'colour="red"'))


# -- hostile and broken input ---------------------------------------------------------------------------


def test_malformed_xml_refused_with_line() -> None:
    text = fixture("child.bpmn").content.decode().replace('name="入户调查" />', 'name="入户调查">')
    problem = only(refused(SourceFile("broken.bpmn", text.encode())), "BPMN_XML_INVALID")
    assert problem.location.line is not None
    assert problem.location.element_id


@pytest.mark.parametrize(
    "payload",
    [
        '<!DOCTYPE l [<!ENTITY l "l"><!ENTITY l2 "&l;&l;&l;">]><bpmn:definitions {ns} id="d">&l2;</bpmn:definitions>',
        '<!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]><bpmn:definitions {ns} id="d">&x;</bpmn:definitions>',
        '<!DOCTYPE bpmn:definitions><bpmn:definitions {ns} id="d" />',
    ],
)
def test_dtd_and_entities_refused(payload: str) -> None:
    problem = only(refused(SourceFile("evil.bpmn", payload.format(ns=NAMESPACES).encode())), "BPMN_XML_INVALID")
    assert "DTD" in problem.message


def test_non_bpmn_xml_refused() -> None:
    html = SourceFile("x.bpmn", b'<?xml version="1.0"?><html id="h"><body /></html>')
    problem = only(refused(html), "BPMN_XML_INVALID")
    assert problem.location.element_id == "h"


def test_junk_only_ever_raises_deployment_refused() -> None:
    rng = random.Random(20261102)
    base = fixture("approval.bpmn").content
    samples = [b"", b"\x00\xff\xfe", "不是 XML".encode(), b"<a>", base[: len(base) // 2]]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(20)]
    for _ in range(30):  # flip bytes of a valid model
        mutated = bytearray(base)
        for _ in range(rng.randrange(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(32, 127)
        samples.append(bytes(mutated))
    for index, content in enumerate(samples):
        try:
            deploy(SourceFile(f"junk{index}.bpmn", content))
        except DeploymentRefused as refusal:
            assert all(p.location.file and p.location.element_id for p in refusal.errors)


def test_empty_deployment_refused() -> None:
    with pytest.raises(DeploymentRefused):
        build_deployment([], sandbox=SANDBOX, resolve_form=fixture_forms)


# -- load_files -------------------------------------------------------------------------------------


def test_load_files_walks_directories_and_resolves_forms(tmp_path: Path) -> None:
    models = tmp_path / "processes" / "approval"
    models.mkdir(parents=True)
    (models / "approval.bpmn").write_bytes(fixture("approval.bpmn").content)
    (models / "apply-schema.json").write_bytes((FORMS / "apply-schema.json").read_bytes())
    shared = tmp_path / "forms"
    shared.mkdir()
    (shared / "apply-uischema.json").write_bytes((FORMS / "apply-uischema.json").read_bytes())
    (tmp_path / "secret.json").write_text("{}")
    files, resolve = load_files([tmp_path / "processes"], shared)
    assert [f.name for f in files] == ["approval/approval.bpmn"]  # relative: the checkout's place never shows
    form = resolve(files[0].name, "apply-schema.json")
    assert form is not None and form.name == "apply-schema.json"
    assert form.content == (models / "apply-schema.json").read_bytes()
    ui = resolve(files[0].name, "apply-uischema.json")
    assert ui is not None and ui.name == "apply-uischema.json"
    assert ui.content == (shared / "apply-uischema.json").read_bytes()
    assert resolve(files[0].name, "../../secret.json") is None
    assert resolve(files[0].name, str(tmp_path / "secret.json")) is None
    deployment = build_deployment(files, sandbox=SANDBOX, resolve_form=resolve)
    assert deployment.processes["approval"].user_tasks["apply"].form is not None


def test_load_files_finds_forms_in_model_sub_folders_and_refuses_ambiguity(tmp_path: Path) -> None:
    (tmp_path / "forms" / "approval").mkdir(parents=True)
    (tmp_path / "forms" / "approval" / "apply-schema.json").write_text('{"title": "approval"}')
    (tmp_path / "elsewhere").mkdir()
    model_file = tmp_path / "elsewhere" / "approval.bpmn"
    model_file.write_bytes(fixture("approval.bpmn").content)
    files, resolve = load_files([model_file], tmp_path / "forms")
    found = resolve(files[0].name, "apply-schema.json")
    assert found is not None and found.name == "apply-schema.json" and found.content == b'{"title": "approval"}'
    (tmp_path / "forms" / "other").mkdir()
    (tmp_path / "forms" / "other" / "apply-schema.json").write_text("{}")
    with pytest.raises(InvalidRequestError):
        resolve(files[0].name, "apply-schema.json")
    problems = refused_with(files, resolve)
    assert [p.message for p in problems if "apply-schema.json" in p.message][0].startswith(
        "读取表单文件 apply-schema.json 失败：表单目录中有多个"
    )


def _instructed(text: str) -> SourceFile:
    extension = f"<bpmn:extensionElements><spiffworkflow:instructionsForEndUser>{text}</spiffworkflow:instructionsForEndUser></bpmn:extensionElements>"  # noqa: E501
    return model(chain(("t", f'<bpmn:userTask id="t">{extension}</bpmn:userTask>')))


def test_user_task_instructions_are_a_template_checked_at_deploy() -> None:
    [definition] = deploy(_instructed("{{ partner }} 退回，原因：{{ reason }}")).processes.values()
    assert [t.instructions for t in definition.user_tasks.values()] == ["{{ partner }} 退回，原因：{{ reason }}"]
    problem = only(refused(_instructed("{% if reason %}未闭合")), "INSTRUCTIONS_TEMPLATE")
    assert problem.location.element_id == "t" and "办理说明模板第 1 行有语法错误" in problem.message
