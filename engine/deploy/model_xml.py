"""Reading model XML safely, and pointing at its elements.

Every finding about a model must name a file and an element id (designers
search the modeler by id), so this module owns both halves: the hardened
parse and the mapping from an lxml element or a line number to a
:class:`Location`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from lxml import etree

from engine.errors import Location, Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_PREFIXES = {BPMN_NS: "bpmn", SPIFF_NS: "spiffworkflow"}

# Elements that only qualify their parent: a finding inside them is reported
# at the enclosing flow element, because that is what the modeler selects.
_DETAIL_TAGS = {
    "conditionExpression", "condition", "completionCondition", "loopCardinality", "loopCondition",
    "timeDate", "timeDuration", "timeCycle", "script", "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics", "extensionElements", "inputDataItem", "outputDataItem",
    "formalExpression", "documentation",
}  # fmt: skip


def local_name(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def namespace(element: Any) -> str:
    return etree.QName(element).namespace or "" if isinstance(element.tag, str) else ""


def short_tag(element: Any) -> str:
    """``bpmn:userTask`` rather than ``{http://…}userTask``."""
    if not isinstance(element.tag, str):
        return "#comment"
    qname = etree.QName(element)
    ns = qname.namespace or ""
    prefix = _PREFIXES.get(ns) or ("dmn" if "DMN" in ns.upper() else element.prefix)
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def _is_detail(element: Any) -> bool:
    name = local_name(element)
    return name in _DETAIL_TAGS or name.endswith("EventDefinition")


@dataclass
class XmlDoc:
    """One parsed model file with an id index; lines come from lxml."""

    file: str
    root: Any
    by_id: dict[str, Any] = field(default_factory=dict)
    original_tags: dict[str, str] = field(default_factory=dict)  # id -> tag before a stand-in rename

    def __post_init__(self) -> None:
        for element in self.root.iter():
            if isinstance(element.tag, str) and element.get("id"):
                self.by_id.setdefault(element.get("id"), element)

    def rename(self, element: Any, local: str) -> None:
        """Give ``element`` another BPMN tag for the parser; findings keep naming the original."""
        if element.get("id"):
            self.original_tags.setdefault(element.get("id"), short_tag(element))
        element.tag = f"{{{BPMN_NS}}}{local}"

    def locate(self, element: Any, *, line_of: Any = None) -> Location:
        """The nearest flow-level element with an id; the root tag if none has one."""
        anchor = element
        while anchor is not None and (not anchor.get("id") or _is_detail(anchor)):
            anchor = anchor.getparent()
        if anchor is None:
            anchor = element
            while anchor is not None and not anchor.get("id"):
                anchor = anchor.getparent()
        line_element = line_of if line_of is not None else element
        if anchor is None:
            return Location(self.file, short_tag(self.root), short_tag(self.root), line=line_element.sourceline)
        tag = self.original_tags.get(anchor.get("id")) or short_tag(anchor)
        return Location(self.file, anchor.get("id"), tag, line=line_element.sourceline)

    def locate_id(self, element_id: str | None, fallback: Any = None) -> Location:
        element = self.by_id.get(element_id or "")
        if element is not None:
            return self.locate(element)
        return self.locate(fallback if fallback is not None else self.root)

    def locate_flow(self, source: str, target: str) -> Location:
        """The sequence flow from ``source`` to ``target`` (where a gateway condition lives)."""
        for flow in self.root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            if flow.get("sourceRef") == source and flow.get("targetRef") == target:
                return self.locate(flow)
        return self.locate_id(source)

    def locate_line(self, line: int | None, fallback: Any = None) -> Location:
        element = element_at_line(self.root, line) if line else None
        if element is None:
            return self.locate(fallback if fallback is not None else self.root)
        return self.locate(element)


def element_at_line(root: Any, line: int) -> Any:
    """The element starting on ``line``, else the last one starting before it."""
    best = None
    for element in root.iter():
        if not isinstance(element.tag, str) or element.sourceline is None:
            continue
        if element.sourceline == line:
            return element
        if element.sourceline < line:
            best = element
    return best


def _hardened_parser(*, recover: bool = False) -> Any:
    # A fresh parser per call: lxml parsers are cheap and carry error state.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=recover)


def _syntax_location(name: str, content: bytes, line: int | None) -> Location:
    """Best effort for unparsable XML: recover what we can and point near the line."""
    try:
        root = etree.fromstring(content, parser=_hardened_parser(recover=True))
    except Exception:
        root = None
    if root is None:
        return Location(name, "#document", line=line)
    doc = XmlDoc(name, root)
    located = doc.locate_line(line) if line else doc.locate(root)
    return Location(name, located.element_id, located.element_tag, line=line or located.line)


def parse_xml(name: str, content: bytes, *, code: str) -> XmlDoc | Problem:
    """defusedxml first (no DTDs, no entities), then lxml for line numbers."""
    try:
        SafeET.fromstring(content, forbid_dtd=True)
    except DefusedXmlException as exc:
        message = f"出于安全原因，模型文件不允许包含 DTD 或实体声明（{type(exc).__name__}）"
        return Problem(code, message, _syntax_location(name, content, None))
    except SafeET.ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        message = f"XML 格式错误（第 {line} 行第 {column} 列）：{exc}"
        return Problem(code, message, _syntax_location(name, content, line))
    except Exception as exc:  # encodings and other oddities: still a located refusal
        return Problem(code, f"无法解析 XML：{type(exc).__name__}: {exc}", _syntax_location(name, content, None))
    try:
        root = etree.fromstring(content, parser=_hardened_parser())
    except Exception as exc:
        line = getattr(exc, "lineno", None)
        return Problem(code, f"XML 格式错误：{exc}", _syntax_location(name, content, line))
    return XmlDoc(name, root)


_xsd_lock = threading.Lock()


def xsd_problems(doc: XmlDoc, schema: Any, *, code: str) -> list[Problem]:
    """Every XSD error, each pinned to the element on its line."""
    with _xsd_lock:  # XMLSchema keeps its error log on the shared instance
        schema.validate(doc.root)
        errors = [(e.line, e.message) for e in schema.error_log]
    return [Problem(code, f"不符合 BPMN/DMN 规范（XSD）：{message}", doc.locate_line(line)) for line, message in errors]
