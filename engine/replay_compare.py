"""Comparing a re-run's events with the recorded ones (:mod:`engine.replay`):
the first field that differs, with both values, in Chinese and under a
stable code. Task ids are paired, not compared: SpiffWorkflow names tasks
with random UUIDs, so the re-run's ids are matched one to one with the
recorded ones as they first appear and held to that pairing afterwards."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from engine.audit import AuditEvent

MISMATCH = "REPLAY_MISMATCH"
CONSISTENT = "复算一致"
MISSING = "（无）"  # a field or event one side lacks
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Difference:
    seq: int
    kind: str  # the recorded event's type ("" when the record ended first)
    field: str  # e.g. "payload.data_diff.added.amount", "type", "(event)"
    recorded: Any
    replayed: Any
    code: str = MISMATCH

    def describe(self) -> str:
        kind = f"（{self.kind}）" if self.kind else ""
        return (
            f"第 {self.seq} 条事件{kind}复算不一致：{self.field} 记录为 {_show(self.recorded)}，"
            f"复算为 {_show(self.replayed)} [{self.code}]"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "field": self.field,
            "recorded": self.recorded,
            "replayed": self.replayed,
            "code": self.code,
            "message": self.describe(),
        }


@dataclass(frozen=True)
class ReplayResult:
    instance_id: str
    events: int  # recorded events compared (or fed) before the answer
    fed: int  # of which appended as recorded inputs (not computed by the engine)
    first_difference: Difference | None = None

    @property
    def consistent(self) -> bool:
        return self.first_difference is None

    def describe(self) -> str:
        if self.first_difference is None:
            return f"{self.instance_id}: {CONSISTENT}（{self.events} 条事件）"
        return f"{self.instance_id}: {self.first_difference.describe()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "consistent": self.consistent,
            "events": self.events,
            "fed": self.fed,
            "answer": CONSISTENT if self.consistent else "复算不一致",
            "first_difference": None if self.first_difference is None else self.first_difference.to_dict(),
        }


def _show(value: Any) -> str:
    if value == MISSING:
        return MISSING
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "…"


class Ids:
    """The re-run's task ids paired with the recorded ones, one to one."""

    def __init__(self) -> None:
        self.to_recorded: dict[str, str] = {}
        self.to_replayed: dict[str, str] = {}

    def pair(self, replayed: str, recorded: str) -> bool:
        if replayed == recorded:
            return self.to_recorded.get(replayed, recorded) == recorded
        known = self.to_recorded.get(replayed)
        if known is not None:
            return known == recorded
        if recorded in self.to_replayed:
            return False
        self.to_recorded[replayed], self.to_replayed[recorded] = recorded, replayed
        return True

    def replayed(self, recorded: str | None) -> str | None:
        return None if recorded is None else self.to_replayed.get(recorded, recorded)


def _first_diff(path: str, recorded: Any, replayed: Any) -> tuple[str, Any, Any] | None:
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        for key in sorted(set(recorded) | set(replayed), key=str):
            found = _first_diff(f"{path}.{key}", recorded.get(key, MISSING), replayed.get(key, MISSING))
            if found is not None:
                return found
        return None
    if isinstance(recorded, list) and isinstance(replayed, list) and len(recorded) == len(replayed):
        for index, (a, b) in enumerate(zip(recorded, replayed, strict=True)):
            found = _first_diff(f"{path}[{index}]", a, b)
            if found is not None:
                return found
        return None
    return None if recorded == replayed else (path, recorded, replayed)


def compare(recorded: AuditEvent, replayed: AuditEvent, ids: Ids) -> Difference | None:
    """The first field in which ``replayed`` differs from ``recorded`` (task ids paired through ``ids``)."""

    def differ(name: str, a: Any, b: Any) -> Difference:
        return Difference(recorded.seq, recorded.type, name, a, b)

    for name in ("type", "actor", "element_id"):
        if getattr(recorded, name) != getattr(replayed, name):
            return differ(name, getattr(recorded, name), getattr(replayed, name))
    if recorded.occurred_at != replayed.occurred_at:
        return differ("occurred_at", recorded.occurred_at.isoformat(), replayed.occurred_at.isoformat())
    mine, theirs_id = replayed.task_id, recorded.task_id
    unpaired = mine is not None and theirs_id is not None and not ids.pair(mine, theirs_id)
    if (mine is None) != (theirs_id is None) or unpaired:
        return differ("task_id", recorded.task_id, ids.to_recorded.get(replayed.task_id or "", replayed.task_id))
    theirs, ours = json.loads(recorded.body)["payload"], json.loads(replayed.body)["payload"]
    text = json.dumps(ours, ensure_ascii=False, sort_keys=True)
    ours_ids = _UUID.findall(text)
    if ours_ids:  # ids in the payload (a child case, a task named in the data) are paired too
        recorded_ids = _UUID.findall(json.dumps(theirs, ensure_ascii=False, sort_keys=True))
        paired = len(ours_ids) == len(recorded_ids)
        if paired and all(ids.pair(a, b) for a, b in zip(ours_ids, recorded_ids, strict=True)):
            if any(ids.to_recorded.get(a, a) != a for a in ours_ids):  # else the text would come back the same
                ours = json.loads(_UUID.sub(lambda m: ids.to_recorded.get(m.group(0), m.group(0)), text))
    if theirs == ours:  # what nearly every event is; the walk below only names the first difference
        return None
    found = _first_diff("payload", theirs, ours)
    return None if found is None else differ(*found)
