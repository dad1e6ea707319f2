"""The engine facade: the one object the API, the web pages, the workers and
the CLI hold. Every method delegates to the part of :mod:`engine.service`
that does the work; every change to an instance goes through the step
pipeline (:mod:`engine.service.stepping`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.audit import AuditEvent, Verdict
from engine.clock import Clock
from engine.deploy.model import Deployment, FormResolver, SourceFile
from engine.digest import Anchors, Digest
from engine.events import EventDraft
from engine.ports import InstanceRecord, Store, TaskRow, Unit, VersionRecord, WakeupIndex
from engine.runtime.connectors import Connectors, StartProcess
from engine.sandbox.scripts import Sandbox
from engine.service import auditing, deploying, firing, sla_admin, stepping, tasks
from engine.service.core import ClockStatus, CommitHook, Core, DeployResult, InstanceView, SpecCache
from engine.service.stepping import Extra, Start, Step
from engine.sla.desk import SlaDesk
from engine.sla.policy import SlaPolicy
from engine.timebounds import TimeLimits
from engine.workcal.calendar import WorkCalendar
from engine.workcal.schedule import Schedule


class Engine:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        sandbox: Sandbox,
        *,
        wakeups: WakeupIndex | None = None,
        connectors: Connectors | None = None,
        cache_size: int = 256,
        fire_batch: int = 50,
        commit_hooks: Sequence[CommitHook] = (),
        after_commit: Sequence[Callable[[InstanceView], None]] = (),
        roles: Collection[str] | None = None,
        time_limits: TimeLimits | None = None,
    ) -> None:
        self.core = Core(
            store=store,
            clock=clock,
            sandbox=sandbox,
            connectors=(connectors or Connectors()).including(StartProcess(lambda: str(uuid.uuid4()))),
            specs=SpecCache(cache_size),
            wakeups=wakeups,
            fire_batch=fire_batch,
            commit_hooks=list(commit_hooks),
            after_commit_hooks=list(after_commit),
            roles=None if roles is None else frozenset(roles),
            time_limits=time_limits or TimeLimits(),
        )

    # The collaborators, as the edges that build an engine set and read them.
    @property
    def store(self) -> Store:
        return self.core.store

    @store.setter
    def store(self, store: Store) -> None:
        self.core.store = store

    @property
    def wakeups(self) -> WakeupIndex | None:
        return self.core.wakeups

    @wakeups.setter
    def wakeups(self, wakeups: WakeupIndex | None) -> None:
        self.core.wakeups = wakeups

    @property
    def clock(self) -> Clock:
        return self.core.clock

    @property
    def sandbox(self) -> Sandbox:
        return self.core.sandbox

    @property
    def connectors(self) -> Connectors:
        return self.core.connectors

    @property
    def sla(self) -> SlaDesk:
        return self.core.sla

    @property
    def commit_hooks(self) -> list[CommitHook]:
        return self.core.commit_hooks

    @property
    def after_commit_hooks(self) -> list[Callable[[InstanceView], None]]:
        return self.core.after_commit_hooks

    @property
    def fire_batch(self) -> int:
        return self.core.fire_batch

    # -- deployments, policies, calendar -------------------------------------------

    def deploy(
        self, files: Sequence[SourceFile], resolve_form: FormResolver, *, actor: str | None, note: str | None = None
    ) -> DeployResult:
        return deploying.deploy(self.core, files, resolve_form, actor=actor, note=note)

    def check_deployment(
        self, files: Sequence[SourceFile], resolve_form: FormResolver, policies: Sequence[tuple[str, bytes]] = ()
    ) -> Deployment:
        """What :meth:`deploy` (with ``policies`` loaded first) would refuse, stored nowhere."""
        return deploying.check(self.core, files, resolve_form, policies)

    def versions(self, process_id: str | None = None) -> list[VersionRecord]:
        with self.store.reader() as unit:
            return unit.list_versions(process_id)

    def version_source(self, process_id: str, version: int) -> SourceFile:
        return deploying.version_source(self.core, process_id, version)

    def load_policies(self, files: Sequence[tuple[str, bytes]], *, actor: str | None) -> list[SlaPolicy]:
        return deploying.load_policies(self.core, files, actor=actor)

    def load_calendar(self, text: str, *, source: str, actor: str | None) -> tuple[Schedule, int]:
        return deploying.load_calendar(self.core, text, source=source, actor=actor)

    def calendar(self) -> WorkCalendar:
        with self.store.reader() as unit:
            return self.sla.calendar(unit)

    # -- instances -------------------------------------------------------------------

    def start(
        self,
        process_id: str,
        data: Mapping[str, Any],
        *,
        actor: str | None,
        version: int | None = None,
        business_key: str | None = None,
        org_unit: str | None = None,
        region: str | None = None,
        strict: bool = False,
    ) -> InstanceView:
        """``strict``: a client's start (API, web) — data no start form declares is refused."""
        request = Start(process_id, data, actor, version, business_key, org_unit, region, strict=strict)
        return stepping.start(self.core, request)

    def get(self, instance_id: str) -> InstanceView:
        with self.store.reader() as unit:
            record = self.core.instance(unit, instance_id)
            run = self.core.load(unit, record)
            return InstanceView(record, run.ready_tasks(), run.data())

    def instance_record(self, instance_id: str) -> InstanceRecord:
        """The instance's row only (org unit, status): cheap, no workflow load."""
        with self.store.reader() as unit:
            return self.core.instance(unit, instance_id)

    def list_instances(
        self,
        *,
        process_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        org_units: Sequence[str] | None = None,
        offset: int = 0,
    ) -> list[InstanceRecord]:
        with self.store.reader() as unit:
            return unit.list_instances(
                process_id=process_id, status=status, limit=limit, org_units=org_units, offset=offset
            )

    def annotate(self, instance_id: str, extra: Extra) -> InstanceView:
        """Record something about an instance on its audit chain, with whatever
        ``extra`` writes, in one transaction; the process itself does not move."""
        return stepping.step(self.core, Step(instance_id, extra=extra))

    def retry_incident(self, instance_id: str, data_patch: Mapping[str, Any], *, actor: str | None) -> InstanceView:
        return stepping.step(self.core, Step(instance_id, lambda run, now: run.retry(data_patch, actor=actor, now=now)))

    def terminate(self, instance_id: str, reason: str, *, actor: str | None) -> InstanceView:
        return stepping.step(self.core, Step(instance_id, lambda run, _now: run.terminate(reason, actor=actor)))

    # -- tasks -------------------------------------------------------------------------

    def complete_task(
        self,
        instance_id: str,
        task_id: str,
        data: Any,
        *,
        actor: str | None,
        expected_revision: int | None = None,
        guard: tasks.Guard | None = None,
        extra: Extra | None = None,
    ) -> InstanceView:
        return tasks.complete(
            self.core, instance_id, task_id, data, actor=actor, expected_revision=expected_revision, guard=guard,
            extra=extra,
        )  # fmt: skip

    def ready_task(self, task_id: str) -> TaskRow:
        return tasks.ready_task(self.core, task_id)

    def task_data(self, instance_id: str, task_id: str) -> dict[str, Any]:
        return tasks.task_data(self.core, instance_id, task_id)

    def assign_task(
        self, task_id: str, assignee: str | None, *, actor: str | None, reason: str | None = None
    ) -> TaskRow:
        return tasks.assign(self.core, task_id, assignee, actor=actor, reason=reason)

    def send_back(self, instance_id: str, task_id: str, *, reason: str, actor: str | None) -> InstanceView:
        return tasks.send_back(self.core, instance_id, task_id, reason=reason, actor=actor)

    # -- timers --------------------------------------------------------------------------

    def fire_due_timers(self, now: datetime | None = None, *, limit: int = 500) -> int:
        return firing.fire_due(self.core, now or self.clock.now(), limit)

    def wake_many(self, instance_ids: Sequence[str], now: datetime | None = None) -> int:
        return firing.wake_many(self.core, instance_ids, now or self.clock.now())

    def wake(self, instance_id: str, now: datetime | None = None) -> bool:
        return firing.wake(self.core, instance_id, now or self.clock.now())

    def rebuild_wakeups(self) -> int:
        """Refill the wake-up index from the database (after Redis lost it)."""
        if self.wakeups is None:
            return 0
        with self.store.reader() as unit:
            entries = unit.wakeups()
        self.wakeups.rebuild(entries)
        return len(entries)

    # -- SLA -------------------------------------------------------------------------------

    def extend_sla(
        self, instance_id: str, *, reason: str, approver: str, approver_role: str, actor: str | None
    ) -> InstanceView:
        return sla_admin.extend(
            self.core, instance_id, reason=reason, approver=approver, approver_role=approver_role, actor=actor
        )

    def sla_status(self, instance_id: str) -> list[ClockStatus]:
        return sla_admin.status(self.core, instance_id)

    def overdue_alerts(self, **filters: Any) -> list[dict[str, Any]]:
        """督办 records, newest first (filters: see :func:`sla_admin.supervisions`)."""
        return sla_admin.overdue_alerts(self.core, **filters)

    def sla_report(
        self, since: datetime, until: datetime, *, process_id: str | None = None, org_unit: str | None = None
    ) -> list[dict[str, Any]]:
        return sla_admin.report(self.core, since, until, process_id=process_id, org_unit=org_unit)

    # -- audit -------------------------------------------------------------------------------

    def audit_system(self, draft: EventDraft, write: Callable[[Unit], None] | None = None) -> None:
        auditing.system_event(self.core, draft, write)

    def record_access(self, instance_id: str, what: str, *, actor: str | None, detail: Mapping[str, Any]) -> None:
        auditing.record_access(self.core, instance_id, what, actor=actor, detail=detail)

    def events(self, instance_id: str) -> list[AuditEvent]:
        return auditing.events(self.core, instance_id)

    def verify(self, chain_id: str | None = None) -> list[Verdict]:
        return auditing.verify(self.core, chain_id)

    @property
    def anchors(self) -> Anchors | None:
        """Signing key and archive of chain-head digests (None: digests off)."""
        return self.core.anchors

    @anchors.setter
    def anchors(self, anchors: Anchors | None) -> None:
        self.core.anchors = anchors

    def write_digest(self) -> Digest:
        """Sign and store a digest of every audit chain's head, now."""
        return auditing.write_digest(self.core)
