"""What every part of the service shares: the collaborators, the spec cache
and the answers the facade returns.

The facade (:mod:`engine.service.facade`) is built around one :class:`Core`;
the step pipeline, deployment, tasks, SLA administration and audit functions
all take it as their first argument, so none of them reaches into another's
internals.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock
from typing import Any

from engine.clock import Clock
from engine.deploy.definitions import definition_from_dict
from engine.deploy.model import ProcessDefinition
from engine.digest import Anchors
from engine.errors import ConflictError, NotFoundError, Problem
from engine.events import EventDraft
from engine.ports import InstanceRecord, Store, Unit, VersionRecord, WakeupIndex
from engine.runtime.connectors import Connectors
from engine.runtime.incidents import Incident
from engine.runtime.run import InstanceRun
from engine.runtime.serialization import RestoredSpec, spec_from_dict
from engine.runtime.tasks import ReadyTask
from engine.sandbox.scripts import Sandbox
from engine.sla.clocks import SlaClock
from engine.sla.desk import SlaDesk
from engine.timebounds import TimeLimits

SYSTEM_CHAIN = "_system"  # the audit chain of deployments, policies, calendars and keys

# Called inside the commit transaction of every step whose ready tasks changed,
# with (unit, instance, run, tasks that became ready, ids of tasks that left,
# now). What it writes commits or rolls back with the step; the audit events
# it returns join the step's events on the instance's chain.
CommitHook = Callable[
    [Unit, InstanceRecord, InstanceRun, Sequence[ReadyTask], Sequence[str], datetime], list[EventDraft]
]


def revision_conflict() -> ConflictError:
    return ConflictError("实例已被他人修改，请刷新后重试", code="REVISION_MISMATCH")


@dataclass(frozen=True)
class InstanceView:
    record: InstanceRecord
    ready: list[ReadyTask]
    data: dict[str, Any]
    changed: bool = True

    @property
    def incident(self) -> Incident | None:
        return Incident.from_dict(self.record.incident)


@dataclass(frozen=True)
class DeployResult:
    content_hash: str
    created: bool
    versions: list[VersionRecord]
    documentation_only: tuple[str, ...]
    warnings: tuple[Problem, ...] = ()  # located, in Chinese; the deployment went ahead


@dataclass(frozen=True)
class ClockStatus:
    clock: SlaClock
    state: str
    days_left: int  # in the clock's own unit (natural days for a 公示), negative once overdue

    @property
    def unit(self) -> str:
        """``working_days`` or ``natural_days``: what ``days_left`` counts."""
        return self.clock.unit


class SpecCache:
    """Restored process specs by (process, version). Versions are immutable,
    so a cached spec never needs the database again."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, int], tuple[ProcessDefinition, RestoredSpec]] = OrderedDict()
        self._lock = Lock()

    def get(self, version: VersionRecord) -> tuple[ProcessDefinition, RestoredSpec]:
        key = (version.process_id, version.version)
        cached = self.cached(*key)
        if cached is not None:
            return cached
        definition = definition_from_dict(version.definition)
        entry = (definition, spec_from_dict(definition.spec))
        with self._lock:
            self._entries[key] = entry
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return entry

    def cached(self, process_id: str, version: int) -> tuple[ProcessDefinition, RestoredSpec] | None:
        with self._lock:
            entry = self._entries.get((process_id, version))
            if entry is not None:
                self._entries.move_to_end((process_id, version))
            return entry


@dataclass
class Core:
    store: Store
    clock: Clock
    sandbox: Sandbox
    connectors: Connectors
    specs: SpecCache
    wakeups: WakeupIndex | None = None
    fire_batch: int = 50  # due instances stepped per transaction
    commit_hooks: list[CommitHook] = field(default_factory=list)
    after_commit_hooks: list[Callable[[InstanceView], None]] = field(default_factory=list)
    sla: SlaDesk = field(default_factory=SlaDesk)
    # Role codes a model's ``starterRoles`` may name (None: not checked against a list).
    roles: frozenset[str] | None = None
    time_limits: TimeLimits = field(default_factory=TimeLimits)  # how far a timer may reach
    anchors: Anchors | None = None  # signed chain-head digests, when a key is configured

    def __post_init__(self) -> None:
        self.script_engine = self.sandbox.script_engine(self.connectors)

    def instance(self, unit: Unit, instance_id: str) -> InstanceRecord:
        record = unit.get_instance(instance_id)
        if record is None or record.id == SYSTEM_CHAIN:
            raise NotFoundError(f"实例 {instance_id} 不存在", code="INSTANCE_NOT_FOUND")
        return record

    def definition(self, unit: Unit, process_id: str, version: int) -> tuple[ProcessDefinition, RestoredSpec]:
        cached = self.specs.cached(process_id, version)
        if cached is not None:
            return cached
        record = unit.get_version(process_id, version)
        if record is None:
            raise NotFoundError(f"流程版本 {process_id} v{version} 缺失", code="VERSION_NOT_FOUND")
        return self.specs.get(record)

    def load(self, unit: Unit, record: InstanceRecord) -> InstanceRun:
        definition, restored = self.definition(unit, record.process_id, record.version)
        return InstanceRun.load(
            record.state,
            definition,
            restored,
            self.script_engine,
            status=record.status,
            incident=Incident.from_dict(record.incident),
            limits=self.time_limits,
        )

    @staticmethod
    def deployed(unit: Unit) -> Callable[[str], bool]:
        return lambda process_id: unit.latest_version(process_id) is not None
