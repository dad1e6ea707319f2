"""Static checks on the XML of executable processes.

SpiffWorkflow's parser builds only what it recognises and drops the rest
without a word (link events, error start events, vendor attributes such as
``camunda:assignee``). A model that deploys must mean what it says, so every
element of an executable process is compared against what the parser really
handles, and anything else is refused here, located.
"""

from __future__ import annotations

from typing import Any

from engine.deploy.model_xml import BPMN_NS, SPIFF_NS, XmlDoc, local_name, namespace, short_tag
from engine.deploy.support import (
    CONTAINERS,
    DESCRIPTIVE_VENDOR_ATTRIBUTES,
    DESCRIPTIVE_VENDOR_ELEMENTS,
    EVENT_DEFINITIONS,
    EVENT_NAMES_ZH,
    EXECUTION_VENDORS,
    EXPRESSION_TAGS,
    REFERENCES,
    REGISTERED_TAGS,
    SUPPORTING_TAGS,
    is_python,
    juel_or_feel,
)
from engine.errors import Problem
from engine.runtime.connectors import Connectors


class ProcessChecker:
    """Collects located problems for one executable process element."""

    def __init__(self, doc: XmlDoc, problems: list[Problem], connectors: Connectors) -> None:
        self.doc = doc
        self.problems = problems
        self.connectors = connectors
        self.expression_language = doc.root.get("expressionLanguage")
        self.dialect_flagged: set[str] = set()  # element ids whose expressions are already refused
        self.stand_ins: list[tuple[Any, str | None]] = []  # (refused element, inert tag or None to drop)
        self.dropped_refs: list[tuple[Any, str]] = []
        self.process: Any = None

    def add(self, code: str, message: str, element: Any, *, line_of: Any = None) -> None:
        self.problems.append(Problem(code, message, self.doc.locate(element, line_of=line_of)))

    def add_at_owner(self, code: str, message: str, element: Any) -> None:
        """Report at the flow element that contains ``element``: that is what the modeler can select."""
        owner = element
        while owner.getparent() is not None and local_name(owner.getparent()) not in CONTAINERS:
            owner = owner.getparent()
        self.add(code, message, owner, line_of=element)

    def check(self, process: Any) -> None:
        self.process = process
        if not any(local_name(c) == "startEvent" and namespace(c) == BPMN_NS for c in process):
            self.add("BPMN_NO_START", "可执行流程缺少开始事件", process)
        self._attributes(process)
        self._walk(process)

    def _walk(self, parent: Any) -> None:
        for element in parent:
            if not isinstance(element.tag, str):
                continue
            ns = namespace(element)
            if ns == BPMN_NS:
                if self._element(element):
                    self._attributes(element)
                    self._walk(element)
            elif ns in EXECUTION_VENDORS and local_name(element) not in DESCRIPTIVE_VENDOR_ELEMENTS:
                self.add_at_owner(
                    "BPMN_DIALECT",
                    f"{short_tag(element)} 是 {EXECUTION_VENDORS[ns]} 的执行扩展，本平台不会执行它；"
                    "请改用本平台支持的写法（泳道、表单属性、脚本任务等）",
                    element,
                )
            # spiffworkflow, diagram and other descriptive vendor content: nothing to execute

    def _element(self, element: Any) -> bool:
        """Check one BPMN element; False when its content need not be inspected."""
        name = local_name(element)
        at_flow_level = local_name(element.getparent()) in CONTAINERS
        if name == "linkEventDefinition":
            self.add("BPMN_LINK_EVENT", "不支持链接事件（SpiffWorkflow 会静默忽略它，流程将走错路径）", element)
        elif name == "compensateEventDefinition":
            self.add("BPMN_COMPENSATION", "不支持补偿（补偿事件与补偿处理活动）", element)
            parent = element.getparent()
            self.stand_ins.append((parent if local_name(parent) == "boundaryEvent" else element, None))
        elif element.get("isForCompensation") == "true":
            self.add("BPMN_COMPENSATION", "不支持补偿（补偿事件与补偿处理活动）", element)
            return True
        elif name == "complexGateway":
            self.add("BPMN_UNSUPPORTED_ELEMENT", "不支持复杂网关（complexGateway）", element)
            self.stand_ins.append((element, "parallelGateway"))
            return True
        elif name == "serviceTask":
            found = self._service_task(element)
            for message in found:
                self.add("BPMN_SERVICE_TASK", message, element)
            if found:
                self.stand_ins.append((element, "task"))
            return True
        elif name == "dataStoreReference":
            self.add("BPMN_DATA_STORE", "不支持数据存储（dataStoreReference）：本平台没有注册任何数据存储实现", element)
            self._detach_associations(element.get("id"))
        elif name not in REGISTERED_TAGS and name not in SUPPORTING_TAGS:
            hint = "；请用泳道表示办理人" if name in {"potentialOwner", "humanPerformer", "performer"} else ""
            message = f"不支持 BPMN 元素 {short_tag(element)}，它不会被执行{hint}"
            self.add_at_owner("BPMN_UNSUPPORTED_ELEMENT", message, element)
            if at_flow_level:
                self.stand_ins.append((element, "task"))
        else:
            return self._supported(element, name)
        return False

    def _service_task(self, element: Any) -> list[str]:
        """What stops a service task from calling a registered connector exactly as written."""
        operators = list(element.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"))
        if len(operators) != 1:
            return ["服务任务须有且只有一个 spiffworkflow:serviceTaskOperator（连接器名称、参数和结果变量）"]
        operator = operators[0]
        found = []
        result = operator.get("resultVariable") or ""
        if not result.isidentifier() or result.startswith("_"):
            found.append("服务任务须用 resultVariable 声明结果变量（合法的变量名，不以下划线开头）")
        if any(True for _ in operator.iter(f"{{{SPIFF_NS}}}retry")):
            found.append("不支持 spiffworkflow:retry（SpiffWorkflow 不会执行它）；调用失败时实例进入故障，修复后重试")
        params: dict[str, bool] = {}
        for parameter in operator.iter(f"{{{SPIFF_NS}}}parameter"):
            pid = parameter.get("id") or ""
            if pid in params:
                found.append(f"连接器参数 {pid} 重复")
            params[pid] = parameter.get("value") is not None and parameter.get("type") is not None
        return found + self.connectors.problems(operator.get("id"), params)

    def _detach_associations(self, reference: str | None) -> None:
        for association in self.process.iter(
            f"{{{BPMN_NS}}}dataInputAssociation", f"{{{BPMN_NS}}}dataOutputAssociation"
        ):
            if any(local_name(r) in {"sourceRef", "targetRef"} and r.text == reference for r in association):
                self.stand_ins.append((association, None))

    def apply_stand_ins(self) -> None:
        """Swap refused elements for inert ones so the parser still builds (and checks) the rest.

        The deployment is refused anyway; this only lets one run report every problem.
        """
        for element, replacement in self.stand_ins:
            if replacement is None:
                parent = element.getparent()
                if parent is not None:
                    parent.remove(element)
            else:
                self.doc.rename(element, replacement)
        for element, attribute in self.dropped_refs:
            element.attrib.pop(attribute, None)
        self.stand_ins.clear()
        self.dropped_refs.clear()

    def _supported(self, element: Any, name: str) -> bool:
        if name in EVENT_DEFINITIONS:
            return self._event(element, name)
        if name == "scriptTask" and not is_python(element.get("scriptFormat")):
            self.dialect_flagged.add(element.get("id") or "")
            self.add("BPMN_DIALECT", f"脚本语言 {element.get('scriptFormat')} 不受支持，只支持 Python", element)
        if name in EXPRESSION_TAGS:
            self._expression(element)
        if name == "sequenceFlow":
            return self._flow_ends(element)
        return self._reference(element, name)

    def _flow_ends(self, flow: Any) -> bool:
        """A flow to a missing element gets a misleading parser message ("two items … same ID")."""
        missing = [
            f"{end}={flow.get(end)}" for end in ("sourceRef", "targetRef") if flow.get(end) not in self.doc.by_id
        ]
        if not missing:
            return True
        self.add("BPMN_REFERENCE", f"顺序流连接的元素不存在：{', '.join(missing)}", flow)
        self.stand_ins.append((flow, None))
        return False

    def _event(self, element: Any, name: str) -> bool:
        allowed = EVENT_DEFINITIONS[name]
        ok = True
        for definition in element:
            kind = local_name(definition)
            if namespace(definition) != BPMN_NS or not kind.endswith("EventDefinition"):
                continue
            ok = self._reference(definition, kind) and ok
            if kind[: -len("EventDefinition")] not in allowed and kind not in {
                "linkEventDefinition",
                "compensateEventDefinition",
            }:
                self.add(
                    "BPMN_UNSUPPORTED_ELEMENT",
                    f"{EVENT_NAMES_ZH[name]}不支持 {short_tag(definition)}（SpiffWorkflow 会把它当作普通事件）",
                    element,
                    line_of=definition,
                )
                ok = False
        if name == "boundaryEvent" and not any(local_name(d).endswith("EventDefinition") for d in element):
            self.add("BPMN_UNSUPPORTED_ELEMENT", "边界事件缺少事件定义（计时器、消息、错误等）", element)
            ok = False
        parent = element.getparent()
        if (
            name == "startEvent"
            and parent.get("triggeredByEvent") == "true"
            and element.get("isInterrupting") != "false"
        ):
            # SpiffWorkflow runs event subprocesses alongside the main flow and never cancels it.
            self.add("BPMN_UNSUPPORTED_ELEMENT", "不支持中断型事件子流程：主流程不会被中断；请设为非中断", element)
            ok = False
        return ok

    def _reference(self, definition: Any, kind: str) -> bool:
        """A message/signal/error/escalation reference must exist (the parser crashes otherwise)."""
        target = REFERENCES.get(kind)
        ref = definition.get(f"{target}Ref") if target else None
        if not target or not ref or any(local_name(e) == target and e.get("id") == ref for e in self.doc.root):
            return True
        self.add("BPMN_REFERENCE", f"引用的 bpmn:{target} {ref} 在文件中不存在", definition)
        self.dropped_refs.append((definition, f"{target}Ref"))
        return False

    def _expression(self, element: Any) -> None:
        if local_name(element) == "conditionExpression":
            self._condition_source(element)
        text = element.text or ""
        language = element.get("language") or self.expression_language
        owner = self.doc.locate(element)
        dialect = juel_or_feel(text)
        if dialect:
            self.dialect_flagged.add(owner.element_id or "")
            self.add(
                "BPMN_DIALECT",
                f"表达式使用了 {dialect} 语法（{text.strip()[:80]}），本平台只支持 Python 表达式",
                element,
            )
        elif not is_python(language):
            self.dialect_flagged.add(owner.element_id or "")
            self.add("BPMN_DIALECT", f"表达式语言 {language} 不受支持，只支持 Python", element)

    def _condition_source(self, condition: Any) -> None:
        """The parser reads flow conditions only on the non-default exits of exclusive and inclusive gateways."""
        flow = condition.getparent()
        source = self.doc.by_id.get(flow.get("sourceRef") or "")
        if source is None:
            return  # a dangling sourceRef is the parser's finding
        if local_name(source) not in {"exclusiveGateway", "inclusiveGateway"}:
            message = "只有排他网关和包容网关的出口顺序流可以带条件；这里的条件会被忽略"
        elif source.get("default") == flow.get("id"):
            message = "默认顺序流不能带条件；这里的条件会被忽略"
        else:
            return
        self.add("BPMN_UNSUPPORTED_ELEMENT", message, condition)

    def _attributes(self, element: Any) -> None:
        vendor = []
        for attribute in element.attrib:
            if not attribute.startswith("{"):
                continue
            ns, _, name = attribute[1:].partition("}")
            if ns in EXECUTION_VENDORS and name not in DESCRIPTIVE_VENDOR_ATTRIBUTES:
                vendor.append(f"{EXECUTION_VENDORS[ns].lower()}:{name}")
        if vendor:
            self.add(
                "BPMN_DIALECT",
                f"包含本平台不会执行的厂商扩展属性：{', '.join(vendor)}；请改用泳道、表单属性或脚本",
                element,
            )


BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
_FLOW_NODE_SUFFIXES = ("Task", "Event", "Gateway")
_FLOW_NODE_TAGS = {"task", "callActivity", "subProcess", "transaction", "adHocSubProcess"}


def diagram_warnings(doc: XmlDoc, process: Any) -> list[Problem]:
    """Warnings, never refusals, for an executable process drawn without BPMN DI.

    Third-party files without a diagram still deploy; but the case page then has
    to lay the model out on its own (no lanes) and a modeler shows nothing, so
    the designer is told which process, and which elements, have no shape.
    """
    nodes = [
        element
        for element in process.iter()
        if namespace(element) == BPMN_NS
        and element.get("id")
        and (local_name(element).endswith(_FLOW_NODE_SUFFIXES) or local_name(element) in _FLOW_NODE_TAGS)
    ]
    drawn = {shape.get("bpmnElement") for shape in doc.root.iter(f"{{{BPMNDI_NS}}}BPMNShape")}
    missing = [element for element in nodes if element.get("id") not in drawn]
    pid = process.get("id")
    if not nodes or not missing:
        return []
    if len(missing) == len(nodes):
        message = (
            f"流程 {pid} 没有流程图（BPMN DI）：案件页只能临时自动排版（不分泳道），建模器中也看不到图形；"
            "请在建模器中排版后保存，或运行 tools/layout_bpmn.py 生成"
        )
        return [Problem("BPMN_NO_DI", message, doc.locate(process))]
    names = "、".join(str(element.get("id")) for element in missing[:5]) + (" 等" if len(missing) > 5 else "")
    message = (
        f"流程 {pid} 的流程图（BPMN DI）缺少 {len(missing)} 个元素的图形：{names}；这些元素在案件页和建模器中不显示"
    )
    return [Problem("BPMN_DI_INCOMPLETE", message, doc.locate(missing[0]))]
