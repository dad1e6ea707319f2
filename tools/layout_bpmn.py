"""Lay out BPMN files left to right, one horizontal band per lane, and write
the diagram interchange (BPMN DI) into them.

    .venv/bin/python tools/layout_bpmn.py processes            # rewrite every .bpmn below processes/
    .venv/bin/python tools/layout_bpmn.py --check processes    # exit 1 if a file's DI is not what it would write

Only the diagram is touched: a ``bpmndi:BPMNDiagram`` is (re)written at the end
of the file and, for a process with lanes, a ``bpmn:collaboration`` with one
participant (the pool the lanes are drawn in) is put before the process. The
process elements themselves are left byte for byte as they were.

The layout is deterministic: columns by longest path along the sequence flows
(loops broken where a depth-first walk from the start events meets them),
one band per lane in laneSet order, rows inside a band so that no two shapes
share a cell and no flow runs through a shape; flows are routed orthogonally
(vertical runs only in the gaps between columns, loops back along a channel at
the top of the target's lane).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
GENERATED = "jiuzhu-layout"  # the collaboration this tool adds carries this in its id

TASKS = {
    "task", "userTask", "scriptTask", "serviceTask", "businessRuleTask", "manualTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
}  # fmt: skip
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
SIZES = {**dict.fromkeys(TASKS, (100, 80)), **dict.fromkeys(GATEWAYS, (50, 50)), **dict.fromkeys(EVENTS, (36, 36))}

POOL_HEAD = 30  # the pool's name band
LANE_HEAD = 30  # each lane's name band
MARGIN = 40  # from the lane's name band to the first column
CHANNEL = 30  # at the top of each lane: loops back run here
ROW = 130  # row pitch: an 80 high task and the space for labels below it
GAP = 50  # the least horizontal gap between columns
TRACK = 10  # between parallel vertical runs in one gap
LABEL_WRAP = 90  # bpmn-js wraps external labels at 90px
LINE = 14


def text_width(text: str, size: float = 11) -> float:
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def label_box(text: str) -> tuple[float, float]:
    """The (width, height) bpmn-js will need for an external label."""
    width = text_width(text)
    lines = max(1, math.ceil(width / (LABEL_WRAP - 6)))
    return (min(LABEL_WRAP, width + 6), lines * LINE)


@dataclass
class Node:
    id: str
    tag: str
    name: str
    lane: int
    order: int
    width: int
    height: int
    col: int = 0
    row: int = -1
    host: str | None = None
    x: float = 0
    y: float = 0

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str
    back: bool = False
    kind: str = ""  # straight | z | a | b | c | back
    via: tuple[int, int] | None = None  # (lane, row) of a detour
    points: list[tuple[float, float]] = field(default_factory=list)
    label: tuple[float, float, float, float] | None = None


@dataclass
class VRun:
    gap: int
    y1: float
    y2: float
    source: str
    target: str
    track: int = 0


class Layout:
    def __init__(self, process: etree._Element) -> None:
        self.process = process
        self.pid = process.get("id") or ""
        self.lanes: list[tuple[str, str]] = []
        lane_of: dict[str, int] = {}
        for lane in process.iterfind(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane"):
            if lane.find(f"{{{BPMN}}}childLaneSet") is not None:
                raise SystemExit(f"{self.pid}: nested lanes are not supported")
            index = len(self.lanes)
            self.lanes.append((lane.get("id") or "", lane.get("name") or ""))
            for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef"):
                lane_of[(ref.text or "").strip()] = index
        self.nodes: dict[str, Node] = {}
        for order, el in enumerate(process):
            tag = etree.QName(el).localname if isinstance(el.tag, str) else ""
            if etree.QName(el).namespace != BPMN or tag not in SIZES:
                continue
            w, h = SIZES[tag]
            node = Node(el.get("id") or "", tag, el.get("name") or "", lane_of.get(el.get("id") or "", 0), order, w, h)
            node.host = el.get("attachedToRef") if tag == "boundaryEvent" else None
            self.nodes[node.id] = node
        self.flows = [
            Flow(f.get("id") or "", f.get("sourceRef") or "", f.get("targetRef") or "", f.get("name") or "")
            for f in process.iterfind(f"{{{BPMN}}}sequenceFlow")
        ]
        self.default = {
            el.get("default") for el in process if isinstance(el.tag, str) and el.get("default") is not None
        }
        self.data: list[tuple[str, str, str, str]] = []  # (association id, data ref id, task id, direction)
        self.data_refs = {
            el.get("id") or "": el.get("name") or "" for el in process.iterfind(f"{{{BPMN}}}dataObjectReference")
        }
        for task in process:
            for assoc in task.iterfind(f"{{{BPMN}}}dataOutputAssociation"):
                target = (assoc.findtext(f"{{{BPMN}}}targetRef") or "").strip()
                if target in self.data_refs:
                    self.data.append((assoc.get("id") or "", target, task.get("id") or "", "out"))
            for assoc in task.iterfind(f"{{{BPMN}}}dataInputAssociation"):
                source = (assoc.findtext(f"{{{BPMN}}}sourceRef") or "").strip()
                if source in self.data_refs:
                    self.data.append((assoc.get("id") or "", source, task.get("id") or "", "in"))
        self.grid: dict[tuple[int, int, int], tuple[str, str]] = {}
        self.rows = [1] * max(1, len(self.lanes))
        self.data_pos: dict[str, tuple[int, int, int]] = {}

    # -- graph ------------------------------------------------------------------------

    def origin(self, node_id: str) -> str:
        """Where a flow leaves from for layering: a boundary event leaves from its host."""
        node = self.nodes[node_id]
        return node.host if node.host in self.nodes else node_id  # type: ignore[return-value]

    def successors(self, node_id: str) -> list[Flow]:
        return [f for f in self.flows if self.origin(f.source) == node_id]

    def find_back_edges(self) -> None:
        state: dict[str, int] = {}
        starts = [n.id for n in self.nodes.values() if n.tag == "startEvent"]
        roots = starts + [n.id for n in self.nodes.values() if n.host is None]

        def visit(root: str) -> None:
            stack = [(root, iter(self.successors(root)))]
            state[root] = 1
            while stack:
                current, flows = stack[-1]
                flow = next(flows, None)
                if flow is None:
                    state[current] = 2
                    stack.pop()
                    continue
                target = flow.target
                if state.get(target) == 1:
                    flow.back = True
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(self.successors(target))))

        for root in roots:
            if root not in state:
                visit(root)

    def layer(self) -> None:
        forward = [f for f in self.flows if not f.back]
        order = sorted(self.nodes.values(), key=lambda n: n.order)
        changed = True
        while changed:
            changed = False
            for f in forward:
                source = self.nodes[self.origin(f.source)]
                target = self.nodes[f.target]
                if target.col < source.col + 1:
                    target.col = source.col + 1
                    changed = True
            for n in order:
                if n.host and self.nodes[n.host].col != n.col:
                    n.col = self.nodes[n.host].col
                    changed = True
        self.downstream: dict[str, int] = {}
        for n in sorted(self.nodes.values(), key=lambda n: -n.col):
            after = [self.downstream.get(f.target, 0) + 1 for f in self.successors(n.id) if not f.back]
            self.downstream[n.id] = max(after, default=0)

    def reachable(self, start: str, goal: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            for f in self.successors(todo.pop()):
                if f.back or f.target in seen:
                    continue
                if f.target == goal:
                    return True
                seen.add(f.target)
                todo.append(f.target)
        return False

    def main_successor(self, node_id: str) -> str | None:
        outs = [f for f in self.successors(node_id) if not f.back and not self.nodes[f.source].host]
        targets = [f.target for f in outs]
        straight = [t for t in targets if not any(o != t and self.reachable(t, o) for o in targets)]
        if not straight:
            return None
        default = {f.target for f in outs if f.id in self.default}
        return min(straight, key=lambda t: (-self.downstream[t], t not in default, targets.index(t)))

    # -- placement --------------------------------------------------------------------

    def free(self, lane: int, row: int, cols: Iterable[int], owner: str, flow: str = "") -> bool:
        for c in cols:
            got = self.grid.get((lane, row, c))
            if got is not None and got not in (("claim", owner), ("edge", flow)):
                return False
        return True

    def reserve(self, lane: int, row: int, cols: Iterable[int], flow: str) -> None:
        for c in cols:
            self.grid[(lane, row, c)] = ("edge", flow)
        self.rows[lane] = max(self.rows[lane], row + 1)

    def route_options(self, flow: Flow, target: Node, row: int) -> tuple[float, str, tuple[int, int] | None]:
        source = self.nodes[self.origin(flow.source)]
        from_boundary = self.nodes[flow.source].host is not None
        between = range(source.col + 1, target.col)
        same_row = source.lane == target.lane and source.row == row
        if same_row and not from_boundary and self.free(target.lane, row, between, target.id, flow.id):
            return (0, "straight", None)
        if target.col == source.col + 1:
            return (0.3, "z", None)
        if self.free(target.lane, row, between, target.id, flow.id):
            return (0.5, "b", None)
        if not from_boundary and self.free(source.lane, source.row, between, target.id, flow.id):
            return (0.6, "a", None)
        best: tuple[float, str, tuple[int, int] | None] | None = None
        for lane in sorted({source.lane, target.lane}):
            for r in range(self.rows[lane] + 1):
                if self.free(lane, r, between, target.id, flow.id):
                    cost = 1.5 + 0.2 * abs(r - row) + (2 if r >= self.rows[lane] else 0)
                    if best is None or cost < best[0]:
                        best = (cost, "c", (lane, r))
        return best or (20, "a", None)

    def place(self, node: Node) -> None:
        lane = node.lane
        claimed = [k[1] for k, v in self.grid.items() if v == ("claim", node.id) and k[0] == lane and k[2] == node.col]
        incoming = [
            f for f in self.flows if f.target == node.id and not f.back and self.nodes[self.origin(f.source)].row >= 0
        ]
        same = [self.nodes[self.origin(f.source)] for f in incoming if self.nodes[self.origin(f.source)].lane == lane]
        if claimed:
            preferred = claimed[0]
        elif same:
            nearest = max(same, key=lambda n: (n.col, -n.row))
            preferred = nearest.row + (1 if any(self.nodes[f.source].host for f in incoming) else 0)
        else:
            preferred = 0
        best: tuple[float, int] | None = None
        for row in range(self.rows[lane] + 1):
            got = self.grid.get((lane, row, node.col))
            if got is not None and got != ("claim", node.id):
                continue
            cost = abs(row - preferred) + (2.5 if row >= self.rows[lane] else 0)
            cost += sum(self.route_options(f, node, row)[0] for f in incoming)
            if best is None or (cost, row) < best:
                best = (cost, row)
        assert best is not None
        node.row = best[1]
        for key in [k for k, v in self.grid.items() if v == ("claim", node.id)]:
            del self.grid[key]
        self.grid[(lane, node.row, node.col)] = ("node", node.id)
        self.rows[lane] = max(self.rows[lane], node.row + 1)
        for f in incoming:
            self.commit(f, node)
        main = self.main_successor(node.id)
        if main is not None and self.nodes[main].lane == lane and self.nodes[main].row < 0:
            cols = range(node.col + 1, self.nodes[main].col + 1)
            if self.free(lane, node.row, cols, main):
                for c in cols:
                    self.grid[(lane, node.row, c)] = ("claim", main)

    def commit(self, flow: Flow, target: Node) -> None:
        cost, kind, via = self.route_options(flow, target, target.row)
        source = self.nodes[self.origin(flow.source)]
        between = range(source.col + 1, target.col)
        flow.kind, flow.via = kind, via
        if kind in ("straight", "b"):
            self.reserve(target.lane, target.row, between, flow.id)
        elif kind == "a":
            self.reserve(source.lane, source.row, between, flow.id)
        elif kind == "c" and via is not None:
            self.reserve(via[0], via[1], between, flow.id)

    def place_all(self) -> None:
        pending = sorted(
            (n for n in self.nodes.values() if not n.host),
            key=lambda n: (n.col, -self.downstream[n.id], n.order),
        )
        for node in pending:
            self.place(node)
        for node in self.nodes.values():
            if node.host:
                host = self.nodes[node.host]
                node.lane, node.row, node.col = host.lane, host.row, host.col
        for _assoc, ref, task_id, _direction in self.data:
            if ref in self.data_pos:
                continue
            task = self.nodes[task_id]
            near = [(task.row + dr, task.col + dc) for dr in (1, -1) for dc in (0, 1, -1)]
            later = [(r, task.col) for r in range(task.row + 2, self.rows[task.lane] + 1)]
            for row, col in near + later:
                if row >= 0 and col >= 0 and (task.lane, row, col) not in self.grid:
                    self.grid[(task.lane, row, col)] = ("node", ref)
                    self.rows[task.lane] = max(self.rows[task.lane], row + 1)
                    self.data_pos[ref] = (task.lane, row, col)
                    break

    # -- geometry ---------------------------------------------------------------------

    def geometry(self) -> None:
        ncols = max([n.col for n in self.nodes.values()] + [p[2] for p in self.data_pos.values()]) + 1
        widths = [50.0] * ncols
        for n in self.nodes.values():
            if n.host:
                continue
            need = n.width
            if n.tag not in TASKS and n.name:
                need = max(need, label_box(n.name)[0])
            widths[n.col] = max(widths[n.col], need)
        self.lane_top: list[float] = []
        y = 0.0
        for lane in range(len(self.rows)):
            self.lane_top.append(y)
            y += CHANNEL + self.rows[lane] * ROW + 10
        self.height = y
        # Vertical runs and their tracks decide how wide each gap is.
        self.runs: dict[str, list[VRun]] = {}
        for n in self.nodes.values():
            n.y = self.cy(n.lane, n.row) - n.height / 2
        for n in self.nodes.values():  # boundary events sit on their host's lower border
            if n.host:
                host = self.nodes[n.host]
                n.y = host.y + host.height - n.height / 2
        self.back_rank: dict[str, int] = {}
        backs_by_lane: dict[int, list[Flow]] = {}
        for f in self.flows:
            if f.back:
                backs_by_lane.setdefault(self.nodes[f.target].lane, []).append(f)
        for lane_flows in backs_by_lane.values():
            for i, f in enumerate(sorted(lane_flows, key=lambda f: (self.nodes[f.target].col, f.id))):
                self.back_rank[f.id] = i
        gap_runs: dict[int, list[VRun]] = {}
        for f in self.flows:
            for run in self.vertical_runs(f):
                gap_runs.setdefault(run.gap, []).append(run)
                self.runs.setdefault(f.id, []).append(run)
        tracks = [1] * ncols
        for gap, runs in gap_runs.items():
            runs.sort(key=lambda r: (min(r.y1, r.y2), r.source, r.target))
            placed: list[VRun] = []
            for run in runs:
                lo, hi = sorted((run.y1, run.y2))
                used = {
                    p.track
                    for p in placed
                    if p.source != run.source
                    and p.target != run.target
                    and min(p.y1, p.y2) <= hi + 8
                    and max(p.y1, p.y2) >= lo - 8
                }
                run.track = next(t for t in range(len(runs) + 1) if t not in used)
                placed.append(run)
            tracks[gap] = max(r.track for r in runs) + 1
        label_need = [0.0] * ncols
        for f in self.flows:
            if f.name and f.kind in ("straight", "z", "b", "back") and not self.nodes[f.source].host:
                gap = self.origin(f.source)
                label_need[self.nodes[gap].col] = max(label_need[self.nodes[gap].col], label_box(f.name)[0])
        self.gap_width = [
            max(GAP, 20 + TRACK * (tracks[c] - 1) + (label_need[c] + 12 if label_need[c] else 0)) for c in range(ncols)
        ]
        x = POOL_HEAD + LANE_HEAD + MARGIN if self.lanes else MARGIN
        self.col_x: list[float] = []
        for c in range(ncols):
            self.col_x.append(x)
            x += widths[c] + self.gap_width[c]
        self.width = x - self.gap_width[-1] + MARGIN
        self.col_w = widths
        for n in self.nodes.values():
            if not n.host:
                n.x = self.col_x[n.col] + (widths[n.col] - n.width) / 2
        for n in self.nodes.values():
            if n.host:
                host = self.nodes[n.host]
                n.x = host.x + host.width - n.width - 12
        for f in self.flows:
            self.route(f)

    def cy(self, lane: int, row: int) -> float:
        return self.lane_top[lane] + CHANNEL + 45 + row * ROW

    def channel_y(self, flow: Flow) -> float:
        return self.lane_top[self.nodes[flow.target].lane] + 12 + 7 * self.back_rank.get(flow.id, 0)

    def gap_x(self, gap: int, track: int) -> float:
        return self.col_x[gap] + self.col_w[gap] + 14 + TRACK * track

    def ends(self, f: Flow) -> tuple[float, float, float, float]:
        """(source exit y, target entry y, source exit x, target entry x) before geometry is final."""
        s, t = self.nodes[f.source], self.nodes[f.target]
        if s.host:
            host = self.nodes[s.host]
            sy = host.y + host.height + 32
        else:
            sy = s.cy
        return (sy, t.cy, 0, 0)

    def vertical_runs(self, f: Flow) -> list[VRun]:
        s, t = self.nodes[self.origin(f.source)], self.nodes[f.target]
        sy, ty, _, _ = self.ends(f)
        key = (f.source, f.target)
        if f.back:
            ch = self.channel_y(f)
            runs = [VRun(s.col, sy, ch, *key)]
            if t.row != 0:
                runs.append(VRun(t.col - 1, ch, ty, *key))
            return runs
        if f.kind == "straight" and not self.nodes[f.source].host:
            return []
        if f.kind in ("z", "b", "straight"):
            return [VRun(s.col, sy, ty, *key)]
        if f.kind == "a":
            return [VRun(t.col - 1, sy, ty, *key)]
        assert f.via is not None
        vy = self.cy(*f.via)
        return [VRun(s.col, sy, vy, *key), VRun(t.col - 1, vy, ty, *key)]

    def route(self, f: Flow) -> None:
        s, t = self.nodes[f.source], self.nodes[f.target]
        o = self.nodes[self.origin(f.source)]
        runs = self.runs.get(f.id, [])
        sy, ty, _, _ = self.ends(f)
        if s.host:
            points = [(s.cx, s.y + s.height), (s.cx, sy)]
        else:
            points = [(s.x + s.width, s.cy)]
        tx = t.x
        if f.back:
            ch = self.channel_y(f)
            gx = self.gap_x(runs[0].gap, runs[0].track)
            points += [(gx, sy), (gx, ch)]
            if t.row == 0:
                points += [(t.cx, ch), (t.cx, t.y)]
            else:
                g2 = self.gap_x(runs[1].gap, runs[1].track)
                points += [(g2, ch), (g2, ty), (tx, ty)]
        elif not runs:
            points += [(tx, ty)]
        else:
            for run in runs:
                gx = self.gap_x(run.gap, run.track)
                points += [(gx, run.y1), (gx, run.y2)]
            points += [(tx, ty)]
        f.points = dedupe(points)
        if f.name:
            w, h = label_box(f.name)
            gap_end = self.col_x[o.col + 1] if o.col + 1 < len(self.col_x) else tx
            if f.back:  # under the channel, left of where the loop rises
                lx, ly = f.points[1][0] - w - 4, self.channel_y(f) + 3
            elif f.kind == "c" and f.via is not None:
                lx, ly = self.gap_x(runs[0].gap, runs[0].track) + 6, self.cy(*f.via) - h - 3
            else:  # at the end of the gap after the source, right of every vertical run in it
                y = ty if f.kind in ("z", "b") else sy
                lx, ly = gap_end - w - 4, y - h - 3
            f.label = (lx, ly, w, h)

    # -- output -----------------------------------------------------------------------

    def diagram(self, plane_element: str, participant: str | None) -> etree._Element:
        nsmap = {"bpmndi": BPMNDI, "dc": DC, "di": DI}
        diagram = etree.Element(f"{{{BPMNDI}}}BPMNDiagram", nsmap=nsmap, id=f"{self.pid}_diagram")
        plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"{self.pid}_plane", bpmnElement=plane_element)
        top = 0.0
        if participant:
            shape(plane, participant, 0, top, self.width, self.height, horizontal=True)
            for i, (lane_id, _name) in enumerate(self.lanes):
                bottom = self.lane_top[i + 1] if i + 1 < len(self.lanes) else self.height
                y = self.lane_top[i]
                shape(plane, lane_id, POOL_HEAD, y, self.width - POOL_HEAD, bottom - y, horizontal=True)
        for n in sorted(self.nodes.values(), key=lambda n: (n.host is not None, n.order)):
            el = shape(plane, n.id, n.x, n.y, n.width, n.height)
            if n.tag in GATEWAYS:
                el.set("isMarkerVisible", "true")
            if n.tag not in TASKS and n.name:
                w, h = label_box(n.name)
                if n.host:
                    host = self.nodes[n.host]
                    lx, ly = n.x - w - 2, host.y + host.height + 6
                else:
                    lx, ly = n.cx - w / 2, n.y + n.height + 5
                label(el, lx, ly, w, h)
        for ref, (lane, row, col) in sorted(self.data_pos.items()):
            x = self.col_x[col] + (self.col_w[col] - 36) / 2
            y = self.cy(lane, row) - 25
            el = shape(plane, ref, x, y, 36, 50)
            name = self.data_refs.get(ref, "")
            if name:
                w, h = label_box(name)
                label(el, x + 18 - w / 2, y + 55, w, h)
        for f in self.flows:
            el = edge(plane, f.id, f.points)
            if f.label:
                label(el, *f.label)
        for assoc, ref, task_id, direction in self.data:
            if ref not in self.data_pos:
                continue
            task = self.nodes[task_id]
            lane, row, col = self.data_pos[ref]
            dy = self.cy(lane, row)
            dx = self.col_x[col] + self.col_w[col] / 2
            below = dy > task.cy
            task_end = (task.cx, task.y + task.height if below else task.y)
            data_end = (dx, dy - 25 if below else dy + 25)
            edge(plane, assoc, [task_end, data_end] if direction == "out" else [data_end, task_end])
        return diagram


def dedupe(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in points:
        p = (round(p[0]), round(p[1]))
        if out and out[-1] == p:
            continue
        if len(out) >= 2 and (out[-2][0] == out[-1][0] == p[0] or out[-2][1] == out[-1][1] == p[1]):
            out[-1] = p  # collinear: drop the middle point
            continue
        out.append(p)
    return out


def shape(
    plane: etree._Element, element: str, x: float, y: float, w: float, h: float, *, horizontal: bool = False
) -> etree._Element:
    el = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element}_di", bpmnElement=element)
    if horizontal:
        el.set("isHorizontal", "true")
    bounds(el, x, y, w, h)
    return el


def bounds(parent: etree._Element, x: float, y: float, w: float, h: float) -> None:
    etree.SubElement(
        parent, f"{{{DC}}}Bounds", x=str(round(x)), y=str(round(y)), width=str(round(w)), height=str(round(h))
    )


def label(parent: etree._Element, x: float, y: float, w: float, h: float) -> None:
    bounds(etree.SubElement(parent, f"{{{BPMNDI}}}BPMNLabel"), x, y, w, h)


def edge(plane: etree._Element, element: str, points: list[tuple[float, float]]) -> etree._Element:
    el = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{element}_di", bpmnElement=element)
    for px, py in points:
        etree.SubElement(el, f"{{{DI}}}waypoint", x=str(round(px)), y=str(round(py)))
    return el


# -- the file, as text ----------------------------------------------------------------------

DIAGRAM_RE = re.compile(r"\n?[ \t]*<(\w+:)?BPMNDiagram\b.*?</(\w+:)?BPMNDiagram>", re.S)
COLLAB_RE = re.compile(r"[ \t]*<(\w+:)?collaboration id=\"[^\"]*" + GENERATED + r"\".*?</(\w+:)?collaboration>\n", re.S)


def with_layout(text: str) -> str:
    """The file's text with its diagram (re)generated; the process is not touched."""
    text = COLLAB_RE.sub("", DIAGRAM_RE.sub("", text))
    root = etree.fromstring(text.encode("utf-8"))
    processes = [p for p in root if isinstance(p.tag, str) and p.tag == f"{{{BPMN}}}process"]
    if len(processes) != 1:
        raise SystemExit(f"expected exactly one process, found {len(processes)}")
    if root.find(f"{{{BPMN}}}collaboration") is not None:
        raise SystemExit("the file has its own collaboration; lay it out in a modeler")
    process = processes[0]
    layout = Layout(process)
    layout.find_back_edges()
    layout.layer()
    layout.place_all()
    layout.geometry()
    pid = layout.pid
    prefix = root.prefix or ""
    q = f"{prefix}:" if prefix else ""
    participant = f"{pid}_pool" if layout.lanes else None
    plane_element = f"{pid}_{GENERATED}" if participant else pid
    if participant:
        indent = re.search(r"\n([ \t]*)<" + re.escape(q) + r"process\b", text)
        pad = indent.group(1) if indent else "  "
        name = escape_attr(process.get("name") or pid)
        collab = (
            f'{pad}<{q}collaboration id="{plane_element}">\n'
            f'{pad}  <{q}participant id="{participant}" name="{name}" processRef="{pid}" />\n'
            f"{pad}</{q}collaboration>\n"
        )
        at = indent.start() + 1 if indent else text.index(f"<{q}process")
        text = text[:at] + collab + text[at:]
    diagram = layout.diagram(plane_element, participant)
    xml = etree.tostring(diagram, encoding="unicode", pretty_print=True)
    # The namespaces live on the root element, as modelers write them.
    xml = re.sub(r' xmlns:(bpmndi|dc|di)="[^"]*"', "", xml)
    xml = "\n".join("  " + line for line in xml.rstrip().splitlines())
    missing = [(p, ns) for p, ns in (("bpmndi", BPMNDI), ("dc", DC), ("di", DI)) if root.nsmap.get(p) != ns]
    if missing:
        head = re.search(r"<" + re.escape(q) + r"definitions\b", text)
        assert head is not None
        decl = "".join(f' xmlns:{p}="{ns}"' for p, ns in missing)
        end = head.end()
        text = text[:end] + decl + text[end:]
    close = text.rindex(f"</{q}definitions>")
    return text[:close].rstrip() + "\n" + xml + "\n" + text[close:]


def escape_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="only report files whose diagram is out of date")
    args = parser.parse_args(argv)
    files = sorted(
        {f for p in args.paths for f in ([p] if p.is_file() else p.rglob("*.bpmn"))}, key=lambda p: p.as_posix()
    )
    stale = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        new = with_layout(text)
        if new == text:
            continue
        stale += 1
        if args.check:
            sys.stdout.write(f"out of date: {path}\n")
        else:
            path.write_text(new, encoding="utf-8")
            sys.stdout.write(f"laid out: {path}\n")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
