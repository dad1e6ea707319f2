"""Where a case stands on its diagram and how it got there, from the audit
log alone (SpiffWorkflow's task data forgets loops and resets: G1, G12).

Pure: the model's sequence flows, the instance's events and its ready tasks
in; element and flow ids to highlight out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.audit import AuditEvent
from engine.deploy.model_xml import BPMN_NS, XmlDoc, parse_xml

# Events that mean the element was done (entered and left).
DONE = {
    "element_completed",
    "task_completed",
    "script_run",
    "gateway_decided",
    "timer_fired",
    "connector_called",
}
# A multi-instance child is "x [child]" to SpiffWorkflow; the diagram knows "x".
CHILD_SUFFIX = " [child]"


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str


@dataclass(frozen=True)
class CasePath:
    completed: frozenset[str]
    current: frozenset[str]  # ready user tasks and armed timers
    flows: frozenset[str]  # sequence flows taken
    last: str | None = None  # the element completed last: where a finished case's view opens


def sequence_flows(name: str, content: bytes) -> list[Flow]:
    doc = parse_xml(name, content, code="DIAGRAM_XML")
    if not isinstance(doc, XmlDoc):  # deployed files were parsed once already; never expected
        return []
    return [
        Flow(f.get("id"), f.get("sourceRef"), f.get("targetRef"))
        for f in doc.root.iter(f"{{{BPMN_NS}}}sequenceFlow")
        if f.get("id") and f.get("sourceRef") and f.get("targetRef")
    ]


def _element(element_id: str | None) -> str | None:
    if element_id is None:
        return None
    return element_id[: -len(CHILD_SUFFIX)] if element_id.endswith(CHILD_SUFFIX) else element_id


def case_path(flows: Sequence[Flow], events: Iterable[AuditEvent], ready: Iterable[str], *, ended: bool) -> CasePath:
    completed: set[str] = set()
    reached: set[str] = set()
    decided: dict[str, set[str]] = {}  # gateway → the targets it took, over every pass
    armed: dict[str, str] = {}  # timer task id → element, while it waits
    last = None
    for e in events:
        element = _element(e.element_id)
        if element is None:
            continue
        if e.type in DONE:
            completed.add(element)
            last = element
        if e.type == "task_ready":
            reached.add(element)
        if e.type == "gateway_decided":
            decided.setdefault(element, set()).update(_element(t) or t for t in e.payload.get("taken") or [])
        if e.type == "timer_armed" and e.task_id:
            armed[e.task_id] = element
        if e.type in ("timer_fired", "task_cancelled") and e.task_id:
            armed.pop(e.task_id, None)
    current = set() if ended else {*ready, *armed.values()}
    reached |= completed | current
    taken = {
        f.id
        for f in flows
        if f.source in completed and f.target in reached and (f.source not in decided or f.target in decided[f.source])
    }
    return CasePath(frozenset(completed - current), frozenset(current), frozenset(taken), last)
