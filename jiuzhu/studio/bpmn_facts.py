"""What a BPMN file says about each of its elements, as flat text facts a diff
compares: type, name, lane, flows in and out, and everything the engine
executes (spiffworkflow properties such as the form and ``slaStage``, scripts,
conditions, timers, connectors, decisions). The diagram's layout (BPMN DI) is
not a fact: moving a shape changes nothing. Parsed safely, as deploy parses
(defusedxml first, :func:`engine.deploy.model_xml.parse_xml`)."""

from __future__ import annotations

from typing import Any

from engine.deploy.model_xml import BPMN_NS, SPIFF_NS, XmlDoc, local_name, namespace, parse_xml

Facts = dict[str, str]

# Elements a designer adds, removes or edits (the flow elements, lanes and the collaboration's).
ELEMENT_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
    "sequenceFlow", "dataObjectReference", "dataStoreReference", "textAnnotation", "association",
    "lane", "participant", "messageFlow", "process",
}  # fmt: skip
TYPE_LABELS = {
    "startEvent": "开始事件", "endEvent": "结束事件", "intermediateCatchEvent": "中间捕获事件",
    "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件", "task": "任务", "userTask": "用户任务",
    "manualTask": "手工任务", "scriptTask": "脚本任务", "serviceTask": "服务任务", "businessRuleTask": "业务规则任务",
    "sendTask": "发送任务", "receiveTask": "接收任务", "callActivity": "调用活动", "subProcess": "子流程",
    "transaction": "事务子流程", "exclusiveGateway": "排他网关", "parallelGateway": "并行网关",
    "inclusiveGateway": "包容网关", "eventBasedGateway": "事件网关", "complexGateway": "复杂网关",
    "sequenceFlow": "顺序流", "dataObjectReference": "数据对象", "dataStoreReference": "数据存储",
    "textAnnotation": "注释", "association": "关联", "lane": "泳道", "participant": "参与者",
    "messageFlow": "消息流", "process": "流程",
}  # fmt: skip
FACT_LABELS = {
    "type": "类型", "name": "名称", "lane": "泳道", "incoming": "流入", "outgoing": "流出", "source": "起点",
    "target": "终点", "condition": "条件", "default": "默认分支", "defaultFlow": "默认分支",
    "documentation": "说明", "script": "脚本",
    "timer": "定时", "event": "事件定义", "attachedTo": "附着于", "interrupting": "中断", "calledElement": "调用流程",
    "multiInstance": "多实例", "property:formJsonSchemaFilename": "表单", "property:formUiSchemaFilename": "表单界面",
    "property:slaStage": "时限环节", "property:starterRoles": "可发起角色", "instructions": "办理说明",
    "operator": "连接器", "decision": "决策表", "preScript": "前置脚本", "postScript": "后置脚本",
    "variableName": "变量名", "text": "文字",
}  # fmt: skip
ATTRIBUTES = (
    ("name", "name"),
    ("calledElement", "calledElement"),
    ("attachedToRef", "attachedTo"),
    ("default", "defaultFlow"),
)
# Children folded into their element's facts (never elements of their own).
_FOLDED = {"incoming", "outgoing", "extensionElements", "documentation", "laneSet", "flowNodeRef", "lane"}


def fact_label(key: str) -> str:
    if key in FACT_LABELS:
        return FACT_LABELS[key]
    if key.startswith("property:"):
        return f"属性 {key.split(':', 1)[1]}"
    if key.startswith("parameter:"):
        return f"连接器参数 {key.split(':', 1)[1]}"
    return key


def _text(element: Any) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _bpmn(element: Any, name: str) -> Any:
    return element.find(f"{{{BPMN_NS}}}{name}")


def read_model(name: str, content: bytes) -> dict[str, Facts] | str:
    """Each element's facts by id, or a Chinese reason the file cannot be read."""
    try:
        doc = parse_xml(name, content, code="DIFF_XML")
    except ValueError as exc:  # lxml cannot even name the root of some broken files
        return f"XML 格式错误：{exc}"
    if not isinstance(doc, XmlDoc):
        return doc.message
    elements: dict[str, Facts] = {}
    for element in doc.root.iter():
        if namespace(element) == BPMN_NS and local_name(element) in ELEMENT_TAGS and element.get("id"):
            elements.setdefault(element.get("id"), _facts(element))
    _add_lanes(doc, elements)
    _add_flows(elements)
    return elements


def _facts(element: Any) -> Facts:
    kind = local_name(element)
    facts: Facts = {"type": kind}
    pairs = (
        ("name", "name"),
        ("calledElement", "calledElement"),
        ("attachedToRef", "attachedTo"),
        ("default", "defaultFlow"),
    )
    for attribute, key in pairs:
        if element.get(attribute):
            facts[key] = element.get(attribute)
    if kind == "sequenceFlow" or kind in ("messageFlow", "association"):
        facts["source"], facts["target"] = element.get("sourceRef", ""), element.get("targetRef", "")
        condition = _text(_bpmn(element, "conditionExpression"))
        if condition:
            facts["condition"] = condition
    if kind == "boundaryEvent":
        facts["interrupting"] = "否" if element.get("cancelActivity") == "false" else "是"
    if kind == "textAnnotation":
        facts["text"] = _text(_bpmn(element, "text"))
    documentation = _text(_bpmn(element, "documentation"))
    if documentation:
        facts["documentation"] = documentation
    if kind == "scriptTask":
        facts["script"] = (_bpmn(element, "script").text or "").strip() if _bpmn(element, "script") is not None else ""
    for child in element:
        child_kind = local_name(child)
        if child_kind.endswith("EventDefinition"):
            _event(child, facts)
        elif child_kind in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
            facts["multiInstance"] = _loop(child)
    extensions = _bpmn(element, "extensionElements")
    if extensions is not None:
        _extensions(extensions, facts)
    return facts


def _event(definition: Any, facts: Facts) -> None:
    kind = local_name(definition)
    if kind == "timerEventDefinition":
        parts = [f"{local_name(c)}: {_text(c)}" for c in definition if local_name(c).startswith("time")]
        facts["timer"] = "；".join(parts)
        return
    refs = [f"{a}={v}" for a, v in sorted(definition.attrib.items()) if a.endswith("Ref")]
    facts["event"] = " ".join([kind, *refs])


def _loop(loop: Any) -> str:
    attributes = [f"{a}={v}" for a, v in sorted(loop.attrib.items())]
    children = [f"{local_name(c)}={_text(c)}" for c in loop if isinstance(c.tag, str)]
    return "，".join([local_name(loop), *attributes, *children])


def _extensions(extensions: Any, facts: Facts) -> None:
    for child in extensions:
        if namespace(child) != SPIFF_NS:
            continue
        kind = local_name(child)
        if kind == "properties":
            for prop in child:
                if prop.get("name"):
                    facts[f"property:{prop.get('name')}"] = prop.get("value") or _text(prop)
        elif kind == "serviceTaskOperator":
            facts["operator"] = " ".join(f"{a}={v}" for a, v in sorted(child.attrib.items()))
            for parameter in child.iter(f"{{{SPIFF_NS}}}parameter"):
                facts[f"parameter:{parameter.get('id')}"] = f"{parameter.get('type', '')} {parameter.get('value', '')}"
        elif kind == "calledDecisionId":
            facts["decision"] = _text(child)
        elif kind == "instructionsForEndUser":
            facts["instructions"] = (child.text or "").strip()
        elif kind in ("preScript", "postScript"):
            facts[kind] = (child.text or "").strip()
        else:
            facts[kind] = _text(child)


def _add_lanes(doc: XmlDoc, elements: dict[str, Facts]) -> None:
    for lane in doc.root.iter(f"{{{BPMN_NS}}}lane"):
        label = lane.get("name") or lane.get("id") or ""
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            node = elements.get(_text(ref))
            if node is not None:
                node["lane"] = label


def _add_flows(elements: dict[str, Facts]) -> None:
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for flow_id, facts in elements.items():
        if facts["type"] == "sequenceFlow":
            outgoing.setdefault(facts["source"], []).append(flow_id)
            incoming.setdefault(facts["target"], []).append(flow_id)
    for element_id, facts in elements.items():
        if element_id in incoming:
            facts["incoming"] = "、".join(sorted(incoming[element_id]))
        if element_id in outgoing:
            facts["outgoing"] = "、".join(sorted(outgoing[element_id]))
    for facts in list(elements.values()):
        default = facts.get("defaultFlow")
        if default and default in elements:
            elements[default]["default"] = "是"
