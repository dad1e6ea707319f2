"""Service-task connectors: named operations a process may call.

A BPMN service task names its operator and parameters with
``spiffworkflow:serviceTaskOperator id="…" resultVariable="…"`` and
``spiffworkflow:parameter id="…" type="…" value="<python expression>"``.
The connectors themselves (an adapter to a data-check platform, a reference
data service…) live outside the engine and come in as a :class:`Connectors`
registry, so the core stays free of I/O.

Deployment refuses, located, a service task whose operator is not registered
or whose parameters the connector does not declare. At run time the call
happens inside the engine step; its response must be a JSON object and is
stored under the declared result variable. Any failure of the connector
becomes an incident on the task (retryable), never an exception out of the
engine. Every call is recorded for the audit log with its request parameters
and a snapshot of the response (or the error).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.datacopy import data_copy
from engine.errors import JiuzhuError


@dataclass(frozen=True)
class Parameter:
    name: str
    title: str
    required: bool = True
    # What ``spiffworkflow:parameter type="…"`` a model should declare: list, dict, str, int, float, bool, any.
    # The value is a sandboxed expression either way; the type tells the studio what to offer.
    type: str = "any"


class Connector(Protocol):
    """What the engine needs from a connector: a name, its parameters, and the call."""

    name: str
    title: str
    parameters: Sequence[Parameter]

    def call(self, params: Mapping[str, Any]) -> Mapping[str, Any]: ...


class ConnectorError(JiuzhuError):
    """A connector call failed; the task becomes an incident."""

    kind = "invalid"
    default_code = "CONNECTOR_FAILED"


@dataclass
class ConnectorCall:
    """One call, as the audit log keeps it."""

    task_id: str
    element_id: str
    operator: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None
    error: dict[str, str] | None = None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"operator": self.operator, "params": self.params}
        if self.error is not None:
            body["error"] = self.error
        else:
            body["response"] = self.response
        return body


_calls: ContextVar[list[ConnectorCall] | None] = ContextVar("_connector_calls", default=None)


@contextmanager
def recording() -> Iterator[list[ConnectorCall]]:
    """Collect the connector calls made while the block runs."""
    calls: list[ConnectorCall] = []
    token = _calls.set(calls)
    try:
        yield calls
    finally:
        _calls.reset(token)


def _snapshot(value: Any, what: str) -> Any:
    """A JSON copy of ``value``; refuses what JSON cannot hold (NaN, sets, objects)."""
    try:
        return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ConnectorError(f"{what}不能保存为 JSON：{exc}") from None


@dataclass
class Connectors:
    """The registry of connectors a deployment may name."""

    connectors: dict[str, Connector] = field(default_factory=dict)

    @classmethod
    def of(cls, connectors: Iterable[Connector] = ()) -> Connectors:
        registry = cls()
        for connector in connectors:
            if connector.name in registry.connectors:
                raise ValueError(f"connector registered twice: {connector.name}")
            registry.connectors[connector.name] = connector
        return registry

    def including(self, *connectors: Connector) -> Connectors:
        """This registry plus ``connectors`` (built-ins the engine offers)."""
        return Connectors.of([*self.connectors.values(), *connectors])

    def names(self) -> list[str]:
        return sorted(self.connectors)

    def problems(self, operator: str | None, params: Mapping[str, bool]) -> list[str]:
        """What is wrong with a service task naming ``operator`` with ``params`` (name → has value and type)."""
        if not operator:
            return ["服务任务缺少 spiffworkflow:serviceTaskOperator 的 id（连接器名称）"]
        connector = self.connectors.get(operator)
        if connector is None:
            known = "、".join(self.names()) or "（无）"
            return [f"服务任务引用的连接器 {operator} 未注册；已注册的连接器：{known}"]
        declared = {p.name: p for p in connector.parameters}
        found = []
        for name, complete in params.items():
            if name not in declared:
                found.append(f"连接器 {operator}（{connector.title}）没有参数 {name}；可用参数：{'、'.join(declared)}")
            elif not complete:
                found.append(f"连接器参数 {name} 必须同时有 type 和 value（value 是 Python 表达式）")
        for parameter in connector.parameters:
            if parameter.required and parameter.name not in params:
                found.append(f"连接器 {operator} 缺少必填参数 {parameter.name}（{parameter.title}）")
        return found

    def call(self, task_id: str, element_id: str, operator: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Call ``operator``; record the call; raise ConnectorError on any failure."""
        record = ConnectorCall(task_id, element_id, operator, {})
        recorded = _calls.get()
        if recorded is not None:
            recorded.append(record)
        try:
            record.params = _snapshot(dict(params), "连接器请求参数")
            connector = self.connectors.get(operator)
            if connector is None:
                raise ConnectorError(f"连接器 {operator} 未注册（部署后配置被更改？）", code="CONNECTOR_UNKNOWN")
            try:
                response = connector.call(data_copy(record.params))
            except ConnectorError:
                raise
            except Exception as exc:  # an adapter's failure is an incident, never a crash
                raise ConnectorError(
                    f"连接器 {operator}（{connector.title}）调用失败：{type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(response, Mapping):
                raise ConnectorError(f"连接器 {operator} 的返回值必须是 JSON 对象", code="CONNECTOR_RESPONSE")
            record.response = _snapshot(dict(response), "连接器返回值")
        except ConnectorError as exc:
            record.error = {"code": exc.code, "message": exc.message}
            raise
        return data_copy(record.response)


@dataclass(frozen=True)
class StartRequest:
    """A process instance a service task asked for; the engine starts it in the same transaction."""

    instance_id: str
    process_id: str
    data: dict[str, Any]
    business_key: str | None


_starts: ContextVar[tuple[list[StartRequest], Callable[[str], bool]] | None] = ContextVar("_starts", default=None)


@contextmanager
def collecting_starts(deployed: Callable[[str], bool]) -> Iterator[list[StartRequest]]:
    """Collect start requests; ``deployed`` says whether a process id can be started."""
    requests: list[StartRequest] = []
    token = _starts.set((requests, deployed))
    try:
        yield requests
    finally:
        _starts.reset(token)


class StartProcess:
    """Built in: start another deployed process (e.g. 一件事联办 after 低保 is approved).

    The new instance is created in the same transaction as the step that
    asked for it, in the same org unit and region, so either both are stored
    or neither is."""

    name = "start_process"
    title = "启动关联流程"
    parameters: Sequence[Parameter] = (
        Parameter("process_id", "流程标识", type="str"),
        Parameter("data", "启动数据", type="dict"),
        Parameter("business_key", "业务编号", required=False, type="str"),
    )

    def __init__(self, new_id: Callable[[], str]) -> None:
        self.new_id = new_id

    def call(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        context = _starts.get()
        if context is None:
            raise ConnectorError("只能在引擎步骤中启动关联流程", code="START_PROCESS_CONTEXT")
        pending, deployed = context
        process_id, data, key = params.get("process_id"), params.get("data"), params.get("business_key")
        if not isinstance(process_id, str) or not isinstance(data, dict) or not isinstance(key, str | None):
            raise ConnectorError("启动关联流程需要流程标识（字符串）和启动数据（对象）", code="START_PROCESS_PARAMS")
        if not deployed(process_id):
            raise ConnectorError(f"关联流程 {process_id} 未部署；部署后请重试", code="PROCESS_NOT_FOUND")
        request = StartRequest(self.new_id(), process_id, data, key)
        pending.append(request)
        return {"instance_id": request.instance_id, "process_id": process_id}
