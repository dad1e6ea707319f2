"""What the deployment accepts in an executable process: the support matrix as data.

Derived from what SpiffWorkflow 3.2.0's ``SpiffBpmnParser`` registers and reads
(``bpmn/parser/*.py``, ``spiff/parser/*.py``); everything else is refused by
:mod:`engine.deploy.bpmn_checks`.
"""

from __future__ import annotations

from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

REGISTERED_TAGS = {
    tag.split("}")[1] for tag in {*SpiffBpmnParser.PARSER_CLASSES, *SpiffBpmnParser.OVERRIDE_PARSER_CLASSES}
}

# Non-flow BPMN elements the parser reads, or that only describe the model.
SUPPORTING_TAGS = {
    "incoming", "outgoing", "sequenceFlow", "conditionExpression", "documentation", "extensionElements",
    "laneSet", "lane", "childLaneSet", "flowNodeRef", "textAnnotation", "text", "association", "group",
    "dataObject", "dataObjectReference", "dataState", "dataInputAssociation", "dataOutputAssociation",
    "sourceRef", "targetRef", "ioSpecification", "dataInput", "dataOutput", "inputSet", "outputSet",
    "dataInputRefs", "dataOutputRefs", "inputSetRefs", "outputSetRefs", "optionalInputRefs",
    "optionalOutputRefs", "whileExecutingInputRefs", "whileExecutingOutputRefs",
    "multiInstanceLoopCharacteristics", "loopCardinality", "loopDataInputRef", "loopDataOutputRef",
    "inputDataItem", "outputDataItem", "completionCondition", "standardLoopCharacteristics", "loopCondition",
    "messageEventDefinition", "signalEventDefinition", "timerEventDefinition", "timeDate", "timeDuration",
    "timeCycle", "errorEventDefinition", "escalationEventDefinition", "terminateEventDefinition",
    "cancelEventDefinition", "conditionalEventDefinition", "condition", "script", "property", "auditing",
    "monitoring",
}  # fmt: skip

# Which event definitions each event parser reads (bpmn/parser/event_parsers.py);
# any other one would silently turn the event into a plain none event.
EVENT_DEFINITIONS = {
    "startEvent": {"message", "signal", "timer", "conditional"},
    "endEvent": {"message", "cancel", "error", "escalation", "terminate"},
    "intermediateCatchEvent": {"message", "signal", "timer", "conditional"},
    "intermediateThrowEvent": {"message", "signal", "escalation"},
    "boundaryEvent": {"cancel", "error", "escalation", "message", "signal", "timer", "conditional"},
}
EVENT_NAMES_ZH = {
    "startEvent": "开始事件", "endEvent": "结束事件", "intermediateCatchEvent": "中间捕获事件",
    "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件",
}  # fmt: skip

EXECUTION_VENDORS = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda",
    "http://camunda.org/schema/zeebe/1.0": "Zeebe",
    "http://activiti.org/bpmn": "Activiti",
    "http://flowable.org/bpmn": "Flowable",
}
DESCRIPTIVE_VENDOR_ATTRIBUTES = {
    "versionTag", "historyTimeToLive", "isStartableInTasklist", "modelerTemplate",
    "modelerTemplateVersion", "modelerTemplateIcon",
}  # fmt: skip
DESCRIPTIVE_VENDOR_ELEMENTS = {"properties", "property", "versionTag"}

REFERENCES = {
    "messageEventDefinition": "message", "signalEventDefinition": "signal",
    "errorEventDefinition": "error", "escalationEventDefinition": "escalation",
    "sendTask": "message", "receiveTask": "message",
}  # fmt: skip
CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}
EXPRESSION_TAGS = {"conditionExpression", "condition", "completionCondition", "loopCardinality", "loopCondition"}


def is_python(language: str | None) -> bool:
    return language is None or "python" in language.lower()


def juel_or_feel(text: str) -> str | None:
    """Name the foreign expression dialect ``text`` is written in, if any."""
    stripped = text.strip()
    if "${" in stripped or "#{" in stripped:
        return "JUEL"
    if stripped.startswith("="):
        return "FEEL"
    return None
