"""Service tasks and connectors: deploy-time refusals, calls inside the engine step,
results under the declared variable, failures as retryable incidents, audit events."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.deploy.builder import build_deployment
from engine.deploy.model import SourceFile
from engine.errors import DeploymentRefused, Problem
from engine.runtime.connectors import ConnectorError, Connectors, Parameter
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from integrations.sql import SqlStore

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)


@dataclass
class Echo:
    """A connector that doubles ``n`` and can be told to fail."""

    name: str = "echo"
    title: str = "回声"
    parameters: Sequence[Parameter] = (Parameter("n", "数值"), Parameter("note", "备注", required=False))
    fail: BaseException | None = None
    reply: Any = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    def call(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        self.seen.append(dict(params))
        if self.fail is not None:
            raise self.fail
        return self.reply if self.reply is not None else {"doubled": params["n"] * 2}


def service(operator: str = "echo", params: str = '<spiffworkflow:parameter id="n" type="int" value="n" />',
            result: str = ' resultVariable="answer"', extra: str = "") -> bytes:  # fmt: skip
    task = (
        f'<bpmn:serviceTask id="svc" name="调用回声"><bpmn:extensionElements>'
        f'<spiffworkflow:serviceTaskOperator id="{operator}"{result}>'
        f"<spiffworkflow:parameters>{params}</spiffworkflow:parameters>{extra}"
        "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
    )
    body = (
        '<bpmn:startEvent id="start" />' + task + '<bpmn:userTask id="after" name="查看结果" />'
        '<bpmn:endEvent id="end" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="svc" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="svc" targetRef="after" />'
        '<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />'
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="d" targetNamespace="t">'
        f'<bpmn:process id="svc_proc" isExecutable="true">{body}</bpmn:process></bpmn:definitions>'
    ).encode()


def refusals(content: bytes, connectors: Connectors) -> list[Problem]:
    with pytest.raises(DeploymentRefused) as caught:
        build_deployment(
            [SourceFile("svc.bpmn", content)], sandbox=Sandbox(), resolve_form=lambda *_: None, connectors=connectors
        )
    for problem in caught.value.errors:
        assert (problem.location.file, problem.location.element_id) == ("svc.bpmn", "svc"), problem
    return caught.value.errors


REGISTRY = Connectors.of([Echo()])


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (service(operator="nope"), "连接器 nope 未注册"),
        (service(result=""), "resultVariable"),
        (service(params='<spiffworkflow:parameter id="m" type="int" value="1" />'), "没有参数 m"),
        (service(params=""), "缺少必填参数 n"),
        (service(params='<spiffworkflow:parameter id="n" type="int" />'), "必须同时有 type 和 value"),
        (service(extra='<spiffworkflow:retry retries="3" />'), "spiffworkflow:retry"),
    ],
)
def test_bad_service_tasks_are_refused_where_they_are(content: bytes, needle: str) -> None:
    problems = refusals(content, REGISTRY)
    assert any(p.code == "BPMN_SERVICE_TASK" and needle in p.message for p in problems), problems


def test_parameter_expressions_are_compiled_at_deploy() -> None:
    content = service(params='<spiffworkflow:parameter id="n" type="int" value="__import__(1)" />')
    assert [p.code for p in refusals(content, REGISTRY)] == ["SCRIPT_FORBIDDEN"]


def test_without_connectors_every_service_task_is_refused() -> None:
    assert "未注册" in refusals(service(), Connectors())[0].message


def test_registering_one_name_twice_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Connectors.of([Echo(), Echo()])


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def engines(make_store: Callable[[], SqlStore], clock: FixedClock, echo: Echo) -> Callable[[], Engine]:
    """A new Engine on the same database each call (a save/restore round trip between steps)."""

    def make() -> Engine:
        return Engine(make_store(), clock, Sandbox(), connectors=Connectors.of([echo]))

    make().deploy([SourceFile("svc.bpmn", service())], lambda *_: None, actor="designer")
    return make


def test_the_call_runs_in_the_step_and_its_result_is_stored(engines: Callable[[], Engine], echo: Echo) -> None:
    iid = engines().start("svc_proc", {"n": 21}, actor="a").record.id
    view = engines().get(iid)
    assert view.data["answer"] == {"doubled": 42}
    assert [t.element_id for t in view.ready] == ["after"]
    assert echo.seen == [{"n": 21}]
    called = [e for e in engines().events(iid) if e.type == "connector_called"]
    assert [(e.element_id, e.payload["operator"], e.payload["params"], e.payload["response"]) for e in called] == [
        ("svc", "echo", {"n": 21}, {"doubled": 42})
    ]
    assert engines().verify(iid)[0].ok


@pytest.mark.parametrize(
    ("fail", "reply", "code"),
    [
        (OSError("核对平台连接超时"), None, "CONNECTOR_FAILED"),
        (ConnectorError("授权已过期", code="AUTH_EXPIRED"), None, "AUTH_EXPIRED"),
        (None, ["not", "an", "object"], "CONNECTOR_RESPONSE"),
        (None, {"x": float("nan")}, "CONNECTOR_FAILED"),
    ],
)
def test_a_failing_call_is_a_retryable_incident(
    engines: Callable[[], Engine], echo: Echo, fail: BaseException | None, reply: Any, code: str
) -> None:
    echo.fail, echo.reply = fail, reply
    view = engines().start("svc_proc", {"n": 1}, actor="a")
    iid = view.record.id
    assert view.record.status == "incident" and view.incident is not None
    assert (view.incident.code, view.incident.element_id) == (code, "svc")
    assert "调用回声" in view.incident.message
    failed = [e for e in engines().events(iid) if e.type == "connector_failed"]
    assert len(failed) == 1 and failed[0].payload["params"] == {"n": 1}
    assert failed[0].payload["error"]["code"] == code
    echo.fail, echo.reply = None, None
    fixed = engines().retry_incident(iid, {"n": 5}, actor="admin")
    assert fixed.record.status == "running" and fixed.data["answer"] == {"doubled": 10}
    assert [e.payload["params"] for e in engines().events(iid) if e.type == "connector_called"] == [{"n": 5}]


def test_a_bad_parameter_expression_at_run_time_is_an_incident(engines: Callable[[], Engine]) -> None:
    view = engines().start("svc_proc", {}, actor="a")  # no n in the data
    assert view.record.status == "incident" and view.incident is not None and view.incident.element_id == "svc"


def test_a_connector_missing_after_deploy_is_an_incident(
    make_store: Callable[[], SqlStore], clock: FixedClock, engines: Callable[[], Engine]
) -> None:
    bare = Engine(make_store(), clock, Sandbox())
    view = bare.start("svc_proc", {"n": 1}, actor="a")
    assert view.record.status == "incident" and view.incident is not None
    assert view.incident.code in {"SERVICE_UNAVAILABLE", "CONNECTOR_UNKNOWN"}


def _starter(target: str) -> bytes:
    params = (
        f'<spiffworkflow:parameter id="process_id" type="str" value="&quot;{target}&quot;" />'
        '<spiffworkflow:parameter id="data" type="dict" value="{&quot;who&quot;: n}" />'
    )
    return service(operator="start_process", params=params, result=' resultVariable="child"')


CHILD = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="c" targetNamespace="t"><bpmn:process id="child_proc" isExecutable="true">
<bpmn:startEvent id="cs" /><bpmn:userTask id="cu" name="子流程待办" /><bpmn:endEvent id="ce" />
<bpmn:sequenceFlow id="c1" sourceRef="cs" targetRef="cu" /><bpmn:sequenceFlow id="c2" sourceRef="cu" targetRef="ce" />
</bpmn:process></bpmn:definitions>""".encode()


def test_start_process_starts_a_deployed_process_in_the_same_org_unit(
    make_store: Callable[[], SqlStore], clock: FixedClock
) -> None:
    engine = Engine(make_store(), clock, Sandbox())
    files = [SourceFile("svc.bpmn", _starter("child_proc")), SourceFile("child.bpmn", CHILD)]
    engine.deploy(files, lambda *_: None, actor="designer")
    parent = engine.start("svc_proc", {"n": 7}, actor="a", org_unit="qinghe.xiwan", region="CN")
    child_id = parent.data["child"]["instance_id"]
    child = Engine(make_store(), clock, Sandbox()).get(child_id)
    assert (child.record.process_id, child.record.org_unit, child.record.region) == ("child_proc", "qinghe.xiwan", "CN")
    assert child.data["who"] == 7 and child.data["parent_instance_id"] == parent.record.id
    assert [t.element_id for t in child.ready] == ["cu"]


def test_start_process_of_an_undeployed_process_is_an_incident(
    make_store: Callable[[], SqlStore], clock: FixedClock
) -> None:
    engine = Engine(make_store(), clock, Sandbox())
    engine.deploy([SourceFile("svc.bpmn", _starter("nowhere"))], lambda *_: None, actor="designer")
    view = engine.start("svc_proc", {"n": 7}, actor="a")
    assert view.incident is not None and view.incident.code == "PROCESS_NOT_FOUND"
    assert [r.process_id for r in engine.list_instances()] == ["svc_proc"]
