"""A case as it stood at any event, rebuilt from its audit chain alone.

Pure: the instance's recorded events in, the case right after event ``n`` out
(its data, the user tasks ready and who held them, the waiting timers, the SLA
clocks, the path taken and where the tokens were) and the data diff the event
caused. Nothing is read from SpiffWorkflow: its task data history is aliased
and reset away (G1, G4, G12); the chain records every change instead.

The case data is the process-level data the engine shows (``InstanceRun.data``):
the start data, then each recorded change applied in chain order: a task's
submission (``data_diff`` of ``task_completed``, then what a post-script did),
a pre-script (``task_ready``), a script (``script_run``), a decision table, a
connector's result variable, a join or a called process (``data_diff`` or
``script_diff`` of ``element_completed`` / ``connector_called``, recorded since
the history page exists; older chains lack them), a 回退 (``task_sent_back``),
and the end data (``instance_completed``). A submission whose post-script
failed (``task_submission_failed``) and an administrator's fix of the failed
task (``incident_retried``) are the case's once that task is done, as in the
engine. What a multi-instance item's task (or a called process's) changes stays
its own until the multi-instance element completes and records what it hands
back; while items are open, the engine's own view (``InstanceRun.data``) shows
the data of the item finished last, the rebuilt case the process's.

Events of one engine step share one transaction: the submission of a task and
everything the engine did automatically because of it. :func:`step_end` finds
the last event of the step an event belongs to, so a page can show what the
submission led to (the 公示 timer armed after 初审) as well as the state right
after the event itself.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.audit import AuditEvent
from engine.sla.clocks import CLOSED_LATE, CLOSED_ON_TIME, EXTENDED, ON_TIME, OVERDUE, PAUSED, PROVISIONAL, WARNING

# Events that mean an element was done (entered and left); jiuzhu/web/case_path.py reads the same.
DONE = frozenset(
    {"element_completed", "task_completed", "script_run", "gateway_decided", "timer_fired", "connector_called"}
)
CHILD_SUFFIX = " [child]"  # a multi-instance child is "x [child]" to SpiffWorkflow; the diagram knows "x"
# Events whose recorded data_diff / script_diff change the case data.
DATA_CHANGES = frozenset(
    {"task_completed", "task_ready", "script_run", "connector_called", "element_completed", "task_sent_back"}
)
ENDED = {"instance_completed": "completed", "instance_failed": "failed", "instance_terminated": "terminated"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class HeldTask:
    """A user task ready at that moment, and who held it (None: its lane's pool)."""

    task_id: str
    element_id: str
    name: str
    lane: str | None
    assignee: str | None = None
    instance_key: str | None = None


@dataclass(frozen=True)
class Waiting:
    """A timer armed and not yet fired."""

    task_id: str
    element_id: str
    due_at: str | None


@dataclass(frozen=True)
class ClockAt:
    """An SLA clock as the chain had recorded it by then."""

    key: str
    stage: str
    name: str
    limit: int | None
    unit: str
    due_on: str | None
    started_at: datetime
    task_id: str | None = None
    element_id: str | None = None
    provisional: bool = False
    paused_since: datetime | None = None
    extended: bool = False
    warned: bool = False
    overdue: bool = False
    closed_at: datetime | None = None
    on_time: bool | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def state(self) -> str:
        if self.closed_at is not None:
            return CLOSED_ON_TIME if self.on_time else CLOSED_LATE
        if self.paused_since is not None:
            return PAUSED
        if self.overdue:
            return OVERDUE
        if self.warned:
            return WARNING
        if self.extended:
            return EXTENDED
        return PROVISIONAL if self.provisional else ON_TIME


@dataclass(frozen=True)
class Change:
    """One field an event changed: ``path`` is a JSON path (``$.members[0].name``)."""

    path: str
    kind: str  # "added", "removed", "changed"
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class CaseAt:
    """The case right after event ``seq``."""

    seq: int
    event: AuditEvent
    status: str
    data: dict[str, Any]
    changes: tuple[Change, ...]  # what event ``seq`` changed in the data
    ready: tuple[HeldTask, ...]
    waiting: tuple[Waiting, ...]
    clocks: tuple[ClockAt, ...]
    path: tuple[str, ...]  # element ids done, in chain order (an element done twice is there twice)
    tokens: tuple[str, ...]  # element ids where the case stood: ready user tasks, armed timers
    unreadable: tuple[int, ...] = ()  # events up to here whose recorded body is not valid JSON


@dataclass
class _State:
    status: str = "running"
    data: dict[str, Any] = field(default_factory=dict)
    ready: dict[str, HeldTask] = field(default_factory=dict)
    waiting: dict[str, Waiting] = field(default_factory=dict)
    clocks: dict[str, ClockAt] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    items: set[str] = field(default_factory=set)  # task ids of multi-instance items
    # What a failed task holds but the case does not show until that task is done: a submission
    # whose post-script failed, an administrator's fix (retry) of the failed task's data.
    pending: dict[str, list[Any]] = field(default_factory=dict)
    failed_task: str | None = None
    unreadable: list[int] = field(default_factory=list)


def element(element_id: str | None) -> str | None:
    return element_id.removesuffix(CHILD_SUFFIX) if element_id else element_id


def payload_of(event: AuditEvent) -> dict[str, Any] | None:
    """The event's recorded payload; None when its body no longer parses (tampered)."""
    try:
        payload = json.loads(event.body).get("payload")
    except (ValueError, AttributeError):
        return None
    return payload if isinstance(payload, dict) else {}


def _apply_diff(data: dict[str, Any], diff: Any) -> None:
    if not isinstance(diff, Mapping):
        return
    for key, value in (diff.get("added") or {}).items():
        data[key] = copy.deepcopy(value)
    for key, change in (diff.get("changed") or {}).items():
        if isinstance(change, Mapping) and "new" in change:
            data[key] = copy.deepcopy(change["new"])
    for key in diff.get("removed") or []:
        data.pop(key, None)


def _own_data(state: _State, event: AuditEvent, scope: Collection[str] | None) -> bool:
    """Whether the event's data changes are the case's (not an item's or a called process's own)."""
    if event.task_id is not None and event.task_id in state.items:
        return False
    bare = element(event.element_id)
    return scope is None or bare is None or bare in scope


def _data(state: _State, event: AuditEvent, p: Mapping[str, Any], scope: Collection[str] | None) -> None:
    t, tid = event.type, event.task_id
    if t == "instance_started":
        state.data = copy.deepcopy(dict(p.get("data") or {}))
    elif t == "instance_completed" and isinstance(p.get("data"), Mapping):
        state.data = copy.deepcopy(dict(p["data"]))
    elif t == "task_submission_failed" and tid:
        state.pending.setdefault(tid, []).extend([p.get("data_diff"), p.get("script_diff")])
    elif t == "incident_raised":
        state.failed_task = tid
    elif t == "incident_retried":
        patch = {"added": dict(p.get("data_patch") or {})}
        if state.failed_task is None:
            _apply_diff(state.data, patch)
        else:
            state.pending.setdefault(state.failed_task, []).append(patch)
    elif t in DATA_CHANGES and _own_data(state, event, scope):
        if t in DONE and tid:
            for held in state.pending.pop(tid, []):
                _apply_diff(state.data, held)
        _apply_diff(state.data, p.get("data_diff"))
        _apply_diff(state.data, p.get("script_diff"))


def _tasks(state: _State, event: AuditEvent, p: Mapping[str, Any]) -> None:
    t, tid = event.type, event.task_id
    if t == "task_ready" and tid:
        key = p.get("instance_key")
        if key is not None:
            state.items.add(tid)
        state.ready[tid] = HeldTask(
            tid, element(event.element_id) or "", str(p.get("name") or event.element_id or ""), p.get("lane"),
            None, None if key is None else str(key),
        )  # fmt: skip
    elif t in ("task_completed", "task_cancelled", "task_submission_failed", "task_sent_back") and tid:
        state.ready.pop(tid, None)
        state.waiting.pop(tid, None)
    elif t in ("task_claimed", "task_unclaimed", "task_reassigned") and tid in state.ready:
        state.ready[tid] = replace(state.ready[tid], assignee=p.get("to"))
    elif t == "incident_raised" and tid:
        state.ready.pop(tid, None)  # a failed task is no one's work until it is retried
    elif t == "timer_armed" and tid:
        state.waiting[tid] = Waiting(tid, element(event.element_id) or "", p.get("due_at"))
    elif t == "timer_fired" and tid:
        state.waiting.pop(tid, None)


def _status(state: _State, event: AuditEvent) -> None:
    t = event.type
    if t == "instance_started":
        state.status = "running"
    elif t == "incident_raised":
        state.status = "incident"
    elif t == "incident_resolved":
        state.status = "running"
    elif t in ENDED:
        state.status = ENDED[t]
        state.ready.clear()
        state.waiting.clear()


def _clocks(state: _State, event: AuditEvent, p: Mapping[str, Any]) -> None:
    t, key, at = event.type, str(p.get("clock") or ""), event.occurred_at
    found = state.clocks.get(key)
    if t == "sla_clock_started":
        limit = p.get("limit")
        state.clocks[key] = ClockAt(
            key, str(p.get("stage") or ""), str(p.get("name") or ""), limit if isinstance(limit, int) else None,
            str(p.get("unit") or ""), p.get("due_on"), at, event.task_id, element(event.element_id),
            bool(p.get("provisional")),
        )  # fmt: skip
    if found is None:
        return
    if t == "sla_clock_closed":
        state.clocks[key] = replace(found, closed_at=at, on_time=bool(p.get("on_time")))
    elif t == "sla_paused":
        state.clocks[key] = replace(found, paused_since=at)
    elif t == "sla_resumed":
        state.clocks[key] = replace(found, paused_since=None, due_on=p.get("due_on", found.due_on))
    elif t == "sla_extended":
        limit = p.get("limit")
        state.clocks[key] = replace(
            found, extended=True, warned=False, overdue=False, due_on=p.get("due_on", found.due_on),
            limit=limit if isinstance(limit, int) else found.limit,
        )  # fmt: skip
    elif t == "sla_warning":
        state.clocks[key] = replace(found, warned=True)
    elif t == "sla_overdue":
        state.clocks[key] = replace(found, warned=True, overdue=True)
    elif t == "deadline_recomputed":
        state.clocks[key] = replace(
            found, due_on=p.get("new_due_on", found.due_on), provisional=bool(p.get("provisional"))
        )


def _apply(state: _State, event: AuditEvent, scope: Collection[str] | None) -> None:
    p = payload_of(event)
    if p is None:
        state.unreadable.append(event.seq)
        p = {}
    _data(state, event, p, scope)
    _tasks(state, event, p)
    _status(state, event)
    _clocks(state, event, p)
    done = element(event.element_id)
    if event.type in DONE and done:
        state.path.append(done)


def json_path(parts: Sequence[str | int]) -> str:
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}"
        else:
            text += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return text


def diff(before: Any, after: Any, at: tuple[str | int, ...] = ()) -> list[Change]:
    """Every leaf that differs, with its JSON path: objects by key, lists by position."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        found: list[Change] = []
        for key in sorted(set(before) | set(after), key=str):
            where = (*at, str(key))
            if key not in before:
                found.append(Change(json_path(where), "added", None, after[key]))
            elif key not in after:
                found.append(Change(json_path(where), "removed", before[key], None))
            else:
                found += diff(before[key], after[key], where)
        return found
    if isinstance(before, list) and isinstance(after, list):
        found = []
        for i in range(max(len(before), len(after))):
            if i >= len(before):
                found.append(Change(json_path((*at, i)), "added", None, after[i]))
            elif i >= len(after):
                found.append(Change(json_path((*at, i)), "removed", before[i], None))
            else:
                found += diff(before[i], after[i], (*at, i))
        return found
    if before == after and type(before) is type(after):
        return []
    return [Change(json_path(at), "changed", before, after)]


def case_at(events: Sequence[AuditEvent], seq: int, *, scope: Collection[str] | None = None) -> CaseAt:
    """The case right after event ``seq`` (1-based, the chain's own numbering).

    ``scope``: the element ids of the instance's own process, when known; changes
    recorded on elements outside it (a called process's) stay that element's own."""
    chosen = [e for e in events if e.seq <= seq]
    if not chosen or chosen[-1].seq != seq:
        raise IndexError(seq)
    state = _State()
    before: dict[str, Any] = {}
    for event in chosen:
        if event.seq == seq:
            before = copy.deepcopy(state.data)
        _apply(state, event, scope)
    ready = tuple(state.ready.values())
    waiting = tuple(state.waiting.values())
    tokens = tuple(dict.fromkeys([*(t.element_id for t in ready), *(w.element_id for w in waiting)]))
    return CaseAt(
        seq,
        chosen[-1],
        state.status,
        state.data,
        tuple(diff(before, state.data)),
        ready,
        waiting,
        tuple(state.clocks.values()),
        tuple(state.path),
        tokens,
        tuple(state.unreadable),
    )


def _starts_step(previous: AuditEvent, event: AuditEvent) -> bool:
    """Whether ``event`` begins a new engine step: another moment, a person's (or a
    system's) act, or a sweep's first timer."""
    if event.occurred_at != previous.occurred_at or event.actor is not None:
        return True
    return event.type == "timer_fired" and previous.type != "timer_fired"


def step_end(events: Sequence[AuditEvent], seq: int) -> int:
    """The last event of the engine step that event ``seq`` belongs to."""
    ordered = [e for e in events if e.seq >= seq]
    last = seq
    for previous, event in zip(ordered, ordered[1:], strict=False):
        if _starts_step(previous, event):
            break
        last = event.seq
    return last
